"""Pictures uploaded for a step: only PNG or JPEG, decoded and written anew by Pillow.

What reaches people is a picture Pillow drew itself: camera metadata (EXIF GPS, the phone's owner),
comments and colour profiles stay behind, and a file that only claims to be a picture (by its name or its
first bytes) or would unpack into an enormous image (a decompression bomb) is refused before it is decoded.
"""
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.i18n import N_

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096                          # Telegram sends photos up to 10,000 px (width + height)
MAX_PIXELS = 4096 * 3072                 # 12.6 megapixels: a phone photo; a bomb claims far more
FORMATS = {"PNG": "png", "JPEG": "jpg"}


class PictureRefused(ValueError):
    """Why a file is not taken; the message is a catalog msgid, shown in the uploader's language."""

    def __init__(self, message: str, **values):
        super().__init__(message)
        self.message, self.values = message, values


def clean(data: bytes) -> tuple[bytes, str]:
    """(re-encoded bytes, file suffix) of an uploaded PNG or JPEG, or PictureRefused with the reason."""
    if not data:
        raise PictureRefused(N_("Choose a picture file first."))
    if len(data) > MAX_BYTES:
        raise PictureRefused(N_("The picture is over {count} MB."), count=MAX_BYTES // (1024 * 1024))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=list(FORMATS))   # reads the header only
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise PictureRefused(N_("This file is not a PNG or JPEG picture.")) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PictureRefused(N_("The picture is too large: at most {side} pixels a side."), side=MAX_SIDE) from None
        kind, (width, height) = image.format or "", image.size     # one of FORMATS: open() took no other
        if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
            raise PictureRefused(N_("The picture is too large: at most {side} pixels a side."), side=MAX_SIDE)
        try:
            image.load()
            image = ImageOps.exif_transpose(image)      # upright as the camera meant, before EXIF goes
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PictureRefused(N_("This file is not a PNG or JPEG picture.")) from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha and kind == "PNG" else "RGB"
    pixels = image.convert(mode)
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())   # a new image: no info, EXIF or profile
    out = io.BytesIO()
    if kind == "PNG":
        fresh.save(out, "PNG", optimize=True)
    else:
        fresh.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), FORMATS[kind]
