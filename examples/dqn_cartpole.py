"""Reinforcement learning: a Deep Q-Network balances CartPole (gymnasium), written the classic Keras way.

A small Keras network maps the 4 state numbers to the value of each of the 2 actions. The agent acts
epsilon-greedily (epsilon decays from 1 to 0.05), stores transitions in a replay buffer, and each step fits
the network on a random batch towards r + gamma * max_a' Q_target(s', a') (0 past a terminal state), with
``train_on_batch``. Q_target is a copy refreshed every 250 steps (``set_weights``). DQN's greedy policy can
get worse with more training, so every 20 episodes it is played 3 times and the best weights are kept (the
usual early stopping for DQN). The task counts as solved when the average return of 20 greedy episodes
reaches 195 (the episode cap is 500). Draws the returns (``dqn_cartpole.png``).
"""

from __future__ import annotations

import numpy as np

import ember as keras


def q_network():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(64, "relu"), keras.layers.Dense(64, "relu"), keras.layers.Dense(2)]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.Huber())
    return model


def greedy_return(env, model, seed: int) -> float:
    state, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        action = int(np.argmax(model.predict_on_batch(state[None])[0]))
        state, reward, terminated, truncated, _ = env.step(action)
        total += reward
        done = terminated or truncated
    return total


def main(quick: bool = False, out: str = ".") -> dict:
    import gymnasium
    from _common import figure_path, save_figure

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    env = gymnasium.make("CartPole-v1")
    online, target = q_network(), q_network()
    target.set_weights(online.get_weights())
    episodes, gamma, batch, capacity = (60 if quick else 200), 0.99, 64, 20_000
    best_weights, best_score = online.get_weights(), -1.0
    states = np.zeros((capacity, 4), "float32")
    next_states = np.zeros((capacity, 4), "float32")
    actions, rewards, ends = np.zeros(capacity, int), np.zeros(capacity, "float32"), np.zeros(capacity, "float32")
    stored, steps, returns = 0, 0, []
    for episode in range(episodes):
        state, _ = env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            epsilon = max(0.05, 1.0 - steps / 2_000)
            if rng.random() < epsilon:
                action = int(rng.integers(2))
            else:
                action = int(np.argmax(online.predict_on_batch(state[None])[0]))
            new_state, reward, terminated, truncated, _ = env.step(action)
            i = stored % capacity
            states[i], actions[i], rewards[i], next_states[i], ends[i] = state, action, reward, new_state, terminated
            stored, steps, total, state = stored + 1, steps + 1, total + reward, new_state
            done = terminated or truncated
            if stored >= batch:
                pick = rng.integers(0, min(stored, capacity), batch)
                q = online.predict_on_batch(states[pick])
                best_next = target.predict_on_batch(next_states[pick]).max(axis=1)
                q[np.arange(batch), actions[pick]] = rewards[pick] + gamma * (1.0 - ends[pick]) * best_next
                online.train_on_batch(states[pick], q)
            if steps % 250 == 0:
                target.set_weights(online.get_weights())
        returns.append(total)
        if episode % 10 == 9:
            print(f"episode {episode + 1}: mean return of the last 10 {np.mean(returns[-10:]):.1f}")
        if episode % 20 == 19:
            score = float(np.mean([greedy_return(env, online, 5_000 + k) for k in range(3)]))
            if score >= best_score:
                best_weights, best_score = online.get_weights(), score
    if best_score > greedy_return(env, online, 4_999):
        online.set_weights(best_weights)
    evaluation = float(np.mean([greedy_return(env, online, 10_000 + k) for k in range(5 if quick else 20)]))
    print(f"greedy policy: mean return {evaluation:.1f} (solved at 195)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, len(returns) + 1), returns, lw=1)
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title("DQN on CartPole-v1")
    path = save_figure(fig, figure_path(out, "dqn_cartpole.png"))
    return {"greedy_return": evaluation, "first_10": float(np.mean(returns[:10])), "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
