"""The model variants users write, shared by the torch.fx, TorchScript and CLI tests."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def sequential(*, inplace=False):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(inplace), nn.Dropout(0.2),
                         nn.Linear(128, 64), nn.ReLU(inplace), nn.Dropout(0.2), nn.Linear(64, 10))


class Fn(nn.Module):
    """784 -> 32 -> act -> 10 -> head, with `act` and `head` functions of the tensor."""

    def __init__(self, act, head=lambda x: x, flatten=lambda x: x.view(-1, 784), bias=True):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32, bias=bias), nn.Linear(32, 10, bias=bias)
        self.act, self.head, self.flatten = act, head, flatten

    def forward(self, x):
        return self.head(self.fc2(self.act(self.fc1(self.flatten(x)))))


class Mods(nn.Module):
    """784 -> 32 -> act module -> 10 -> head module."""

    def __init__(self, act, head=None):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(784, 32), act, nn.Linear(32, 10)
        self.head = head if head is not None else nn.Identity()

    def forward(self, x):
        return self.head(self.fc2(self.act(self.fc1(x))))


class Residual(nn.Module):
    def __init__(self, use_torch_add=False):
        super().__init__()
        self.fc_in, self.fc, self.fc_out = nn.Linear(784, 32), nn.Linear(32, 32), nn.Linear(32, 10)
        self.use_torch_add = use_torch_add

    def forward(self, x):
        h = F.relu(self.fc_in(x))
        h = torch.add(h, F.relu(self.fc(h))) if self.use_torch_add else h + F.relu(self.fc(h))
        return self.fc_out(h)


class ViewBySize(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.view(x.size(0), -1))


class ConstAdd(nn.Module):
    """Adds a parameter, a broadcast buffer and a Python number."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)
        self.shift = nn.Parameter(torch.randn(10))
        self.register_buffer("row", torch.randn(1, 10))

    def forward(self, x):
        return 0.5 + (self.fc(x) + self.shift + self.row) + 1.0


class FunctionalDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.5, self.training))


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        y = self.fc(x)
        return y, F.softmax(y, dim=1)


class WithConv(nn.Module):
    """A layer Strata does not run (im2col as a layer, nn.Unfold), for the refusal tests."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Unfold(3)
        self.fc = nn.Linear(9 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv1(x), 1))


class WithSin(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return torch.sin(self.fc(x))


class MixBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(392, 10)

    def forward(self, x):
        return self.fc(x.view(-1, 392))


class InplaceReused(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 10), nn.Linear(784, 10)

    def forward(self, x):
        h = self.fc1(x)
        return F.relu(h, inplace=True) + h
