"""Celery settings: broker, queues, routes and reliability, shared by web (sender) and workers."""

from __future__ import annotations

from kombu import Queue

from app.config import get_settings
from app.jobs import INTERACTIVE_QUEUE, QUEUES, TASK_QUEUES, batch_queues, chat_queues

_settings = get_settings()

broker_url = _settings.redis_url
result_backend = None
task_ignore_result = True

# with MODELS, each model's chat and batch queues too (app/jobs.py)
_names = dict.fromkeys((*QUEUES, *chat_queues(_settings), *batch_queues(_settings)))
task_queues = tuple(Queue(name, routing_key=name) for name in _names)
task_default_queue = INTERACTIVE_QUEUE
task_routes = {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}

# Jobs are acknowledged only when finished and requeued if the process dies: a reply is never
# lost, and a redelivered one starts over. An inference worker runs two threads per engine
# place (batch items hold at most half, so chat jobs always find a thread) and one per reserve
# place (light users' chat jobs, workers/inference/fair.py); ingest workers run -c 1.
worker_concurrency = 2 * _settings.engine_places + _settings.reserve_places
worker_prefetch_multiplier = 1
task_acks_late = True
task_reject_on_worker_lost = True
# A job whose worker vanished becomes visible again after visibility_timeout (longer than
# the longest reply); unacked messages are swept for that every restore interval.
broker_transport_options = {
    "visibility_timeout": _settings.visibility_timeout_s,
    "unacked_restore_interval": max(1, min(10, _settings.visibility_timeout_s // 2)),
    "unacked_restore_throttle": 1,
    "queue_order_strategy": "priority",
}
broker_connection_retry_on_startup = True
# Celery's consumer, kept running through a Redis restart (kombu 5.7 fails its own clean-up).
worker_consumer = "workers.consumer:Consumer"
worker_send_task_events = True
task_send_sent_event = False  # one Redis round trip less per POST; Flower sees received/started
worker_hijack_root_logger = False
task_serializer = "json"
accept_content = ["json"]
