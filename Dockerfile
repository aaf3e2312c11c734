# The app's image: the worker, the API and the scheduler (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Everything but what .dockerignore leaves out (tests, the local venv and data).
COPY . .
RUN pip install . && useradd --system --uid 10001 ips
USER ips
CMD ["python", "worker.py"]
