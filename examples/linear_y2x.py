"""The seeds' first network, on Ember's engine alone: learn Y = 2X - 1 from six points.

One neuron (y = w * x + b), mean squared error, plain gradient descent: the
forward pass builds a graph, ``loss.backward()`` fills ``w.grad`` and ``b.grad``,
and the update steps against them. After 500 steps it predicts about 11 for X = 6.
"""

import numpy as np

import ember

ember.random.seed(0)
xs = ember.tensor(np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0]).reshape(-1, 1))
ys = ember.tensor(np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0]).reshape(-1, 1))

w = ember.random.uniform((1, 1), -0.05, 0.05).requires_grad_()
b = ember.zeros((1,), requires_grad=True)
learning_rate = 0.01  # Keras's default for 'sgd'

for step in range(500):
    loss = ((xs @ w + b - ys) ** 2).mean()
    w.grad = b.grad = None
    loss.backward()
    with ember.no_grad():
        w.data -= learning_rate * w.grad.data
        b.data -= learning_rate * b.grad.data
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

with ember.no_grad():
    prediction = ember.tensor([[6.0]]) @ w + b
print(f"learned w = {w.item():.4f}, b = {b.item():.4f}")
print(f"prediction for X = 6: {prediction.item():.4f} (the exact answer is 11)")
