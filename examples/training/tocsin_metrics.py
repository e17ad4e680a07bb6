"""The training-loop metrics tocsin's alerting pack reads, exported with prometheus_client.

The names are the observability brief's (training_loss, training_learning_rate, ...) plus the
contract listed at the top of examples/prometheus/ml-alerts.rules.yml. Every series carries
`run`, the training run's name, which the runbooks fill in ($run). Export from one process per
node (rank 0 of the node) and scrape it; the values are for the whole run as that rank sees
them.

    metrics = TrainingMetrics(run="llama3-70b-pretrain")
    metrics.serve(9100)                      # http://<host>:9100/metrics
    ...
    metrics.step(step, loss=..., lr=..., lr_scheduled=..., grad_norm=..., seconds=...,
                 phases={"forward": ..., "backward": ..., "allreduce": ...}, tokens=...)
"""

import time

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, start_http_server

PHASES = ("data_load", "forward", "backward", "allreduce", "optimizer")


class TrainingMetrics:
    def __init__(self, run: str, registry: CollectorRegistry = REGISTRY, flops_per_token: float = 0.0,
                 peak_flops: float = 0.0):
        self.run = run
        self._flops_per_token = flops_per_token  # for MFU: 6 * parameters for a dense transformer
        self._peak_flops = peak_flops            # the GPUs' peak for the dtype used, all ranks
        self._started = time.time()
        self._first_step_at = None

        def gauge(name, doc, labels=()):
            return Gauge(name, doc, ["run", *labels], registry=registry)

        self.step_gauge = gauge("training_step", "Global optimiser step.")
        self.loss = gauge("training_loss", "Last reported training loss.")
        self.lr = gauge("training_learning_rate", "Learning rate the optimiser used.")
        self.lr_scheduled = gauge("training_learning_rate_scheduled", "Learning rate the schedule gives for the step.")
        self.grad_norm = gauge("training_gradient_norm", "Global L2 norm of the gradients, before clipping.")
        self.step_time = gauge("training_step_time_seconds", "Wall time of the last step.")
        self.phase_time = gauge("training_step_phase_seconds", "Parts of the last step.", ["phase"])
        self.tokens_per_second = gauge("training_tokens_per_second", "Tokens per second of the last step, all ranks.")
        self.mfu = gauge("training_mfu", "Model FLOPs utilisation, ratio 0-1.")
        self.p2p_latency = gauge("training_p2p_latency_seconds", "Pipeline activation send/receive of the last step.")
        self.checkpoint_duration = gauge("training_checkpoint_last_duration_seconds", "Time the last checkpoint save took.")
        self.checkpoint_size = gauge("training_checkpoint_last_size_bytes", "Bytes the last checkpoint save wrote.")
        self.recovery = gauge("training_recovery_duration_seconds",
                              "Seconds from process start to the first step (grows until then).")
        self.checkpoint_saves = Counter("training_checkpoint_saves", "Checkpoint saves attempted.", ["run"],
                                        registry=registry)
        self.checkpoint_failures = Counter("training_checkpoint_save_failures", "Checkpoint saves that raised.",
                                           ["run"], registry=registry)
        self.nccl_errors = Counter("training_nccl_errors", "Failed NCCL collectives by error.", ["run", "error"],
                                   registry=registry)

        # Counters exist from start-up at 0, so their first increment is visible to increase().
        self.checkpoint_saves.labels(run)
        self.checkpoint_failures.labels(run)
        self.nccl_errors.labels(run, "timeout")
        for phase in PHASES:
            self.phase_time.labels(run, phase)
        # Grows while the process has not taken its first step (a resume), then stays.
        self.recovery.labels(run).set_function(
            lambda: (self._first_step_at or time.time()) - self._started)

    def serve(self, port: int) -> None:
        start_http_server(port)

    def step(self, step: int, *, loss: float, lr: float, lr_scheduled: float, grad_norm: float,
             seconds: float, phases: dict, tokens: int, p2p_seconds: float = None) -> None:
        run = self.run
        if self._first_step_at is None:
            self._first_step_at = time.time()
        self.step_gauge.labels(run).set(step)
        self.loss.labels(run).set(loss)
        self.lr.labels(run).set(lr)
        self.lr_scheduled.labels(run).set(lr_scheduled)
        self.grad_norm.labels(run).set(grad_norm)
        self.step_time.labels(run).set(seconds)
        for phase, value in phases.items():
            self.phase_time.labels(run, phase).set(value)
        self.tokens_per_second.labels(run).set(tokens / seconds)
        if self._peak_flops:
            self.mfu.labels(run).set(tokens * self._flops_per_token / seconds / self._peak_flops)
        if p2p_seconds is not None:
            self.p2p_latency.labels(run).set(p2p_seconds)

    def checkpoint(self, save) -> None:
        """Runs save() (which returns the bytes written) and records its outcome."""
        self.checkpoint_saves.labels(self.run).inc()
        started = time.time()
        try:
            size = save()
        except Exception:
            self.checkpoint_failures.labels(self.run).inc()
            raise
        self.checkpoint_duration.labels(self.run).set(time.time() - started)
        self.checkpoint_size.labels(self.run).set(size)

    def nccl_error(self, error: str) -> None:
        """error: "timeout" for the NCCL watchdog's, else the ncclResult name (remote_error...)."""
        self.nccl_errors.labels(self.run, error).inc()
