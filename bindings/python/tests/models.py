"""The PyTorch models of the tests, written the way users write them."""
import torch
import torch.nn as nn


class SimpleNN(nn.Module):
    """The classic MNIST MLP; `act` is the hidden activation (torch.relu, torch.sigmoid, …)."""

    def __init__(self, act=torch.relu):
        super().__init__()
        self.act = act
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)


def sequential(head=None):
    """SimpleNN as nn.Sequential, with Dropout, and an optional final layer (e.g. nn.Softmax)."""
    layers = [
        nn.Flatten(),
        nn.Linear(28 * 28, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 10),
    ]
    if head is not None:
        layers.append(head)
    return nn.Sequential(*layers)


class LogisticRegression(nn.Module):
    def __init__(self, n_in=28 * 28, n_out=10):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.linear(x)


class ResidualMLP(nn.Module):
    """An MLP with a skip connection: h + relu(fc(h))."""

    def __init__(self, width=64):
        super().__init__()
        self.fc_in = nn.Linear(28 * 28, width)
        self.fc = nn.Linear(width, width)
        self.fc_out = nn.Linear(width, 10)

    def forward(self, x):
        h = torch.relu(self.fc_in(x.view(-1, 28 * 28)))
        h = h + torch.relu(self.fc(h))
        return self.fc_out(h)


def seeded(factory, *args, seed=0, **kwargs):
    """factory(*args, **kwargs) with weights drawn after torch.manual_seed(seed), in eval mode."""
    torch.manual_seed(seed)
    return factory(*args, **kwargs).eval()


class LinearThen(nn.Module):
    """Linear(20, 40) → `act`; with `keep`, the Linear's output is a second graph output, so the
    activation cannot fuse into the GEMM's epilogue and runs as a step of its own."""

    def __init__(self, act, keep):
        super().__init__()
        torch.manual_seed(1)
        self.lin, self.act, self.keep = nn.Linear(20, 40), act, keep

    def forward(self, x):
        h = self.lin(x)
        return (self.act(h), h) if self.keep else self.act(h)
