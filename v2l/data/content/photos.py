"""Real photographs shipped in the scikit-image wheel, each with a hand-written caption of its content.

Only pictures whose scikit-image docstring states CC0, public domain or no known copyright restrictions
are listed. Captions use the tiny tokenizer's words (v2l/backbones/tiny_vocab.py) and describe content only.
"""

from __future__ import annotations

import numpy as np

from v2l.data.content.item import RawInput

# name in skimage.data -> (caption, licence as stated in its docstring)
PHOTOS: dict[str, tuple[str, str]] = {
    "astronaut": ("a portrait of a woman astronaut", "public domain (NASA)"),
    "brick": ("a grey brick wall", "CC0 (CC0Textures)"),
    "camera": ("a black and white photo of a man with a camera", "CC0 (Lav Varshney)"),
    "cell": ("a grey microscope image of a cell", "CC0"),
    "chelsea": ("a photo of an orange cat", "CC0 (Stefan van der Walt)"),
    "coffee": ("a cup of coffee on a table", "CC0 (Rachel Michetti)"),
    "coins": ("old coins on a dark table", "no known copyright restrictions"),
    "grass": ("green grass in a field", "CC0 (CC0Textures)"),
    "gravel": ("grey gravel stones", "CC0 (CC0Textures)"),
    "horse": ("a black horse shape on white", "CC0 (Andreas Preuss)"),
    "hubble_deep_field": ("deep space with many stars and galaxy lights", "public domain (NASA)"),
    "immunohistochemistry": ("a microscope image of brown and blue tissue cells", "no known copyright restrictions"),
    "microaneurysms": ("a dark grey scan of an eye retina", "CC0 (Andreas Maier)"),
    "retina": ("a red retina of an eye", "CC0 / public domain"),
    "rocket": ("a rocket standing under a blue sky", "public domain (SpaceX)"),
    "text": ("black text letters on a grey page", "public domain"),
    "clock": ("a grey clock on a wall", "public domain (Stefan van der Walt)"),
}


def load_photo(name: str, size: int) -> np.ndarray:
    """A scikit-image photo as uint8 (size, size, 3): any dtype or channel count, centre-cropped square."""
    import skimage.data
    from skimage.util import img_as_ubyte

    img = getattr(skimage.data, name)()
    img = img_as_ubyte(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return square_resize(img[..., :3], size)


def square_resize(img: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, W, 3) -> centre-cropped square, resized to (size, size, 3).

    PIL's resize (antialiased, single-threaded) rather than torch: curation runs next to training jobs,
    where torch's threaded kernels slowed each resize about 10x.
    """
    from PIL import Image

    h, w = img.shape[:2]
    s = min(h, w)
    img = np.ascontiguousarray(
        img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s, :3], dtype=np.uint8
    )
    if s == size:
        return img.copy()
    return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None))


def photo_inputs(names: list[str] | None = None) -> list[RawInput]:
    names = sorted(PHOTOS) if names is None else names
    out = []
    for n in names:
        caption, licence = PHOTOS[n]
        out.append(
            RawInput(
                name=f"builtin:photo/{n}",
                source="photo",
                caption=caption,
                licence=licence,
                origin=f"scikit-image skimage.data.{n}()",
                id_hint=f"photo-{n.replace('_', '')}",
                builtin=f"photo:{n}",
            )
        )
    return out
