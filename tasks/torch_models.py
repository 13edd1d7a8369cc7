"""Exports the real-model test set (issue 12) from PyTorch to ONNX, with random weights.

Run with Debian's Python, the one that sees apt's python3-torch (1.13) and python3-torchvision
(0.14); tasks/torch_models.ts does it for `deno task setup` and adds onnxruntime's reference
outputs:

    /usr/bin/python3 tasks/torch_models.py OUT_DIR [NAME ...]

For every model: random weights (torchvision's own initialisation, `weights=None`, no
pretrained backbone) under a fixed seed, eval mode, one fixed seeded input, and
`torch.onnx.export` at opset 13 and at opset 17 (constant folding on, static shapes). It writes
OUT_DIR/NAME.op13.onnx, OUT_DIR/NAME.op17.onnx, OUT_DIR/NAME.input0.bin (the raw little-endian
input) and OUT_DIR/models.json, which describes each model (kind, input names, dtypes and shapes,
output names, the files, and why an export is missing when torch cannot make it). The bytes
depend only on this file and the torch version: every model starts from torch.manual_seed.

Sizes are chosen to keep CI well under its budget; where a model runs at a smaller input than
its usual one, `note` says so (docs/CONFORMANCE.md lists them).
"""

import json
import os
import sys
import time
import warnings

import torch
import torch.nn as nn
import torchvision.models as tvm
import torchvision.models.detection as tvd
import torchvision.models.segmentation as tvs
import torchvision.models.video as tvv

OPSETS = (13, 17)


class SequenceClassifier(nn.Module):
    """An nn.LSTM or nn.GRU sequence model: 2 stacked layers over 16 steps, then a linear head on
    the last step's hidden state."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(input_size=32, hidden_size=48, num_layers=2, batch_first=True)
        self.head = nn.Linear(48, 10)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1, :])


class TextEncoder(nn.Module):
    """An nn.TransformerEncoder text model: token and learned position embeddings, 2 post-norm
    encoder layers (d_model 64, 4 heads, feed-forward 128), a linear head over the vocabulary."""

    def __init__(self, vocab=1000, ctx=16, dim=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, ctx, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, 4, 128, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.head(self.encoder(self.tok(ids) + self.pos))


def image(c=3, h=224, w=224):
    return torch.randn(1, c, h, w)


def classifier(build, size=224, note=None):
    return dict(kind="classification", build=build, input=lambda: image(h=size, w=size), note=note)


# name -> how to build the model and its input; `kind` says how tests compare outputs
MODELS = {
    "resnet18": classifier(lambda: tvm.resnet18(weights=None)),
    "mobilenet_v2": classifier(lambda: tvm.mobilenet_v2(weights=None)),
    "mobilenet_v3_small": classifier(lambda: tvm.mobilenet_v3_small(weights=None)),
    "efficientnet_b0": classifier(lambda: tvm.efficientnet_b0(weights=None)),
    "squeezenet1_1": classifier(lambda: tvm.squeezenet1_1(weights=None)),
    "shufflenet_v2_x1_0": classifier(lambda: tvm.shufflenet_v2_x1_0(weights=None)),
    "densenet121": classifier(lambda: tvm.densenet121(weights=None)),
    "googlenet": classifier(lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True)),
    "regnet_y_400mf": classifier(lambda: tvm.regnet_y_400mf(weights=None)),
    "convnext_tiny": classifier(lambda: tvm.convnext_tiny(weights=None)),
    "vit_b_16": classifier(lambda: tvm.vit_b_16(weights=None)),
    "swin_t": classifier(lambda: tvm.swin_t(weights=None)),
    "deeplabv3_mobilenet_v3_large": dict(
        kind="segmentation",
        build=lambda: tvs.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False),
        input=lambda: image(h=256, w=256),
        note="input 256x256 (usually 520)",
    ),
    "lraspp_mobilenet_v3_large": dict(
        kind="segmentation",
        build=lambda: tvs.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
        input=lambda: image(h=256, w=256),
        note="input 256x256 (usually 520)",
    ),
    "fasterrcnn_mobilenet_v3_large_320_fpn": dict(
        kind="detection",
        # with random weights every class score is about 1/91: a zero score threshold keeps
        # the detections (up to 100 after NMS) instead of none
        build=lambda: tvd.fasterrcnn_mobilenet_v3_large_320_fpn(
            weights=None, weights_backbone=None, box_score_thresh=0.0
        ),
        input=lambda: torch.rand(3, 320, 320),
        note="box_score_thresh 0 (random weights score every class about 1/91)",
    ),
    "ssdlite320_mobilenet_v3_large": dict(
        kind="detection",
        build=lambda: tvd.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None),
        input=lambda: torch.rand(3, 320, 320),
    ),
    "r3d_18": dict(
        kind="classification",
        build=lambda: tvv.r3d_18(weights=None),
        input=lambda: torch.randn(1, 3, 8, 112, 112),
        note="8 frames of 112x112 (usually 16)",
    ),
    "lstm": dict(
        kind="sequence",
        build=lambda: SequenceClassifier(nn.LSTM),
        input=lambda: torch.randn(1, 16, 32),
        note="nn.LSTM, 2 layers, hidden 48, 16 steps of 32 features, linear head",
    ),
    "gru": dict(
        kind="sequence",
        build=lambda: SequenceClassifier(nn.GRU),
        input=lambda: torch.randn(1, 16, 32),
        note="nn.GRU, 2 layers, hidden 48, 16 steps of 32 features, linear head",
    ),
    "transformer_encoder": dict(
        kind="sequence",
        build=lambda: TextEncoder(),
        input=lambda: torch.randint(0, 1000, (1, 16)),
        note="nn.TransformerEncoder, 2 layers, d_model 64, 4 heads, 16 tokens, vocabulary 1000",
    ),
}

DTYPES = {torch.float32: "float32", torch.int64: "int64"}


def export(name, spec, out):
    seed = sum(name.encode())
    torch.manual_seed(seed)
    model = spec["build"]().eval()
    torch.manual_seed(seed + 1)
    x = spec["input"]()
    # detection models take a list of images, the others one tensor
    args = ([x],) if spec["kind"] == "detection" else (x,)
    with torch.no_grad():
        outs = model(*args)
    if spec["kind"] == "detection":
        output_names = ["boxes", "scores", "labels"]
    elif spec["kind"] == "segmentation":
        output_names = ["out"]
    else:
        output_names = ["output"]
    with open(os.path.join(out, f"{name}.input0.bin"), "wb") as f:
        f.write(x.contiguous().numpy().tobytes())
    entry = {
        "name": name,
        "kind": spec["kind"],
        "inputs": [{"name": "input", "dtype": DTYPES[x.dtype], "shape": list(x.shape), "file": f"{name}.input0.bin"}],
        "outputs": output_names,
        "files": {},
        "errors": {},
        "params": sum(p.numel() for p in model.parameters()),
    }
    if spec.get("note"):
        entry["note"] = spec["note"]
    for opset in OPSETS:
        path = os.path.join(out, f"{name}.op{opset}.onnx")
        t0 = time.time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model,
                    args,
                    path,
                    opset_version=opset,
                    input_names=["input"],
                    output_names=output_names,
                    do_constant_folding=True,
                )
            entry["files"][str(opset)] = os.path.basename(path)
        except Exception as e:  # torch cannot export it: record why, in one line
            entry["errors"][str(opset)] = f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
            if os.path.exists(path):
                os.remove(path)
        print(f"torch_models: {name} opset {opset}: {time.time() - t0:.1f} s", file=sys.stderr)
    del outs
    return entry


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: torch_models.py OUT_DIR [NAME ...]")
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"torch_models.py: unknown model {', '.join(unknown)}")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    entries = [export(n, MODELS[n], out) for n in names]
    info = {"torch": torch.__version__, "opsets": list(OPSETS), "models": entries}
    with open(os.path.join(out, "models.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
