"""Learning-rate schedules (mx.lr_scheduler with warm-up) driving a Trainer, a batch split over two contexts
with gluon.utils.split_and_load, gradients clipped with gluon.utils.clip_global_norm."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd
    lrs = {}
    schedules = {
        "factor": mx.lr_scheduler.FactorScheduler(step=3, factor=0.5, warmup_steps=2, warmup_begin_lr=0.01),
        "multifactor": mx.lr_scheduler.MultiFactorScheduler(step=[2, 5, 7], factor=0.3, base_lr=0.2),
        "poly": mx.lr_scheduler.PolyScheduler(max_update=8, base_lr=0.3, pwr=2, final_lr=0.01, warmup_steps=2),
        "cosine": mx.lr_scheduler.CosineScheduler(max_update=8, base_lr=0.3, final_lr=0.02, warmup_steps=3),
    }
    for name, schedule in schedules.items():
        lrs[name] = [float(schedule(t)) for t in range(0, 11)]

    x, y = data(8, (4,), seed=22, classes=3)
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(6, activation="tanh"), gluon.nn.Dense(3))
    net.initialize()
    net(nd.array(x))
    seed_params(net, seed=22, scale=0.8)
    schedule = mx.lr_scheduler.FactorScheduler(step=2, factor=0.7, base_lr=0.5, warmup_steps=1, warmup_begin_lr=0.05)
    trainer = gluon.Trainer(
        net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.5, "lr_scheduler": schedule}
    )
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    ctx = [mx.cpu(0), mx.cpu(0)]
    norms, rates, losses = [], [], []
    for _ in range(5):
        xs = gluon.utils.split_and_load(nd.array(x), ctx)
        ys = gluon.utils.split_and_load(nd.array(y), ctx)
        with autograd.record():
            parts = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
        for part in parts:
            part.backward()
        grads = [p.grad() for p in net.collect_params().values()]
        norms.append(float(gluon.utils.clip_global_norm(grads, 0.5)))
        trainer.step(8)
        rates.append(float(trainer.learning_rate))
        losses.append(float(sum(part.sum().asscalar() for part in parts)))
    uneven = gluon.utils.split_data(nd.array(x), 3, even_split=False)
    return {
        **{f"lr_{k}": v for k, v in lrs.items()},
        "norms": norms,
        "rates": rates,
        "losses": losses,
        "uneven_sizes": [float(u.shape[0]) for u in uneven],
        "w": floats(net[0].weight.data()),
    }
