FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY dialogs dialogs
COPY connectors connectors
COPY backend backend
COPY nlu_data nlu_data
RUN pip install --no-cache-dir .
ENV MINSHENG_DATA_DIR=/data MINSHENG_HOST=0.0.0.0 MINSHENG_PORT=8080
VOLUME /data
EXPOSE 8080
CMD ["minsheng", "run"]
