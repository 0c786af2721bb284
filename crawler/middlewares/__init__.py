"""Downloader middlewares: archive every response raw, and the politeness/safety policies.

One middleware per module (as in ``scrapy.downloadermiddlewares``); shared helpers are in
:mod:`crawler.middlewares.common`. Order (DOWNLOADER_MIDDLEWARES priorities in
:mod:`crawler.settings`; process_request runs low -> high, process_response and
process_exception high -> low):

====  =============================================  ==========================================
  60  :class:`.ssrf.SsrfGuardMiddleware`             refuse IP-literal targets before
                                                     robots.txt is fetched
 100  :class:`.robots.PolicyRobotsTxtMiddleware`     Scrapy's, with RFC 9309 handling of
                                                     4xx/5xx/errors
 540  :class:`.failures.FetchFailureMiddleware`      record the failures Retry gave up on
                                                     (one per request)
 560  :class:`.politeness.PolitenessMiddleware`      Crawl-delay, Retry-After, 5xx backoff on
                                                     the slot
 570  :class:`.conditional.ConditionalRequestMiddleware`  If-None-Match / If-Modified-Since
                                                     from the archive
 590  :class:`.decompression.ReusingHttpCompressionMiddleware`  Scrapy's, reusing the body
                                                     decoded at 960
 950  :class:`.archive.ArchiveMiddleware`           every response as received: below
                                                     HttpCompression (590) so bodies are still
                                                     compressed, below Redirect (600) and Retry
                                                     (550) so every hop/attempt is kept
 960  :class:`.decompression.DecompressionGuardMiddleware`  decode (size-capped) before
                                                     archiving: a body past the cap once
                                                     decompressed (a "zip bomb") is recorded as
                                                     too_large and never archived
====  =============================================  ==========================================
"""
