"""Lets `import torchvision` succeed beside the CPU build of torch.

The torchvision wheel on the package index (0.28.0) is built against the CUDA build of torch: its C
extension (`torchvision/_C.so`) links libtorch_cuda and libcudart, which the CPU wheel lacks, so the
extension does not load. torchvision then skips registering its operators, but
`torchvision/_meta_registrations.py` still registers fake kernels for `torchvision::nms` and
`torchvision::qnms` unconditionally, and `import torchvision` fails with "operator torchvision::nms
does not exist". open_clip imports torchvision only for its image transforms (PIL resize, crop,
to-tensor, normalise), which need no compiled operator. Declaring the two operator schemas first lets
the import through; calling them would still fail, and the exporter never does.

Import this module before torchvision or open_clip.
"""

import torch


def _declare_missing_ops():
    try:
        import torchvision.extension  # noqa: F401  (loads _C when it can)

        if torchvision.extension._has_ops():
            return
    except Exception:  # the extension failing to load is the case handled here
        pass
    library = torch.library.Library("torchvision", "FRAGMENT")
    for name in ("nms", "qnms"):
        library.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    # Keep the fragment alive for the life of the process (the registration is dropped with it).
    globals()["_library"] = library


_declare_missing_ops()
