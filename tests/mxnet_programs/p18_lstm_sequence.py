"""An LSTM sequence classifier in TNC layout with explicit begin_state, last step into Dense; Adam steps."""

from ._util import data, floats, seed_params


def main(mx):
    gluon, autograd, nd = mx.gluon, mx.autograd, mx.nd

    class SeqNet(gluon.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.lstm = gluon.rnn.LSTM(5, num_layers=1, layout="TNC")
                self.out = gluon.nn.Dense(2)

        def forward(self, x):
            states = self.lstm.begin_state(batch_size=x.shape[1])
            seq, (h, c) = self.lstm(x, states)
            return self.out(seq[-1]), h, c

    x = nd.array(data(6, (3, 4), seed=18))  # (T=6, N=3, C=4)
    y = nd.array([0, 1, 1])
    net = SeqNet()
    net.initialize()
    net(x)
    seed_params(net, seed=18)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for _ in range(3):
        with autograd.record():
            logits, h, c = net(x)
            loss = loss_fn(logits, y)
        loss.backward()
        trainer.step(3)
        losses.append(float(loss.mean().asscalar()))
    return {"losses": losses, "h": floats(h), "c": floats(c)}
