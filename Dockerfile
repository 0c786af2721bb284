FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crawler crawler
COPY tasks tasks
COPY storage storage
COPY newsvault newsvault
RUN pip install --no-cache-dir . flower
ENV NEWSVAULT_HOME=/data
CMD ["newsvault", "--help"]
