"""A PyTorch training loop exporting tocsin's training metrics (tocsin_metrics.py).

Run: torchrun --nproc-per-node 8 train.py  (rank 0 of each node serves :9100/metrics)
"""

import os
import time

import torch
import torch.distributed as dist

from tocsin_metrics import TrainingMetrics

RUN = os.environ.get("RUN_NAME", "llama3-8b-sft")
PEAK_LR, WARMUP, TOTAL = 3e-4, 2000, 100_000


def schedule(step: int) -> float:
    """Linear warm-up then linear decay: the learning rate the run should have at `step`."""
    if step < WARMUP:
        return PEAK_LR * (step + 1) / WARMUP
    return PEAK_LR * max(0.0, (TOTAL - step) / (TOTAL - WARMUP))


def main(model, loader, save_checkpoint, start_step=0, tokens_per_batch=1_048_576):
    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    metrics = TrainingMetrics(run=RUN, flops_per_token=6 * sum(p.numel() for p in model.parameters()),
                              peak_flops=989e12 * dist.get_world_size())  # H100 bf16 dense
    if local_rank == 0:
        metrics.serve(9100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR, betas=(0.9, 0.95))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: schedule(s) / PEAK_LR)
    for _ in range(start_step):  # a resume that forgets this is what TrainingLearningRateOffSchedule catches
        scheduler.step()

    step = start_step
    batches = iter(loader)
    while step < TOTAL:
        t0 = time.perf_counter()
        batch = next(batches)
        t1 = time.perf_counter()
        loss = model(**batch).loss
        torch.cuda.synchronize()
        t2 = time.perf_counter()
        loss.backward()
        torch.cuda.synchronize()
        t3 = time.perf_counter()
        # Plain data parallelism with an explicit gradient all-reduce, so its time is measured
        # (DDP overlaps it with backward: time it there with a communication hook).
        try:
            for p in model.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
            global_loss = loss.detach()
            dist.all_reduce(global_loss, op=dist.ReduceOp.AVG)
            torch.cuda.synchronize()
        except dist.DistBackendError as error:  # raised once the NCCL watchdog aborts
            metrics.nccl_error("timeout" if "Timeout" in str(error) else "remote_error")
            raise
        t4 = time.perf_counter()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        used_lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        t5 = time.perf_counter()
        step += 1
        metrics.step(step, loss=global_loss.item(), lr=used_lr, lr_scheduled=schedule(step - 1),
                     grad_norm=grad_norm.item(), seconds=t5 - t0, tokens=tokens_per_batch,
                     phases={"data_load": t1 - t0, "forward": t2 - t1, "backward": t3 - t2,
                             "allreduce": t4 - t3, "optimizer": t5 - t4})
        if step % 1000 == 0:
            metrics.checkpoint(lambda: save_checkpoint(model, optimizer, scheduler, step))
