#!/usr/bin/env python3
"""Draw the seven step pictures of the `kit-assembly` item (content/topics/shelter.yaml).

Simple, language-free line drawings with flat colours: no words, only the step
number in a circle, so the same picture serves every language. Run from anywhere:

    python3 content/tools/draw_shelter_steps.py

It (re)writes content/images/shelter/01-kit-contents.png ... 07-maintenance.png
(800x600, palette PNG, well under 60 KB each). Needs Pillow.
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 800, 600          # output size
S = 2                    # drawn at 2x, then scaled down for smooth edges
OUT = Path(__file__).resolve().parent.parent / "images" / "shelter"

# flat colours
SKY = (224, 239, 250)
PAPER = (247, 243, 234)
GROUND = (214, 190, 148)
GROUND_DARK = (168, 136, 96)
SOIL = (139, 104, 66)
GRASS = (150, 190, 110)
TARP = (48, 118, 200)
TARP_LIGHT = (120, 170, 230)
TARP_DARK = (28, 78, 150)
WOOD = (186, 128, 66)
WOOD_DARK = (120, 78, 40)
METAL = (160, 166, 176)
METAL_DARK = (90, 96, 108)
ROPE = (222, 176, 78)
ROPE_DARK = (160, 120, 40)
WATER = (66, 148, 222)
WATER_LIGHT = (160, 205, 240)
RED = (214, 38, 38)
GREEN = (36, 158, 72)
YELLOW = (250, 204, 40)
ORANGE = (245, 130, 30)
INK = (38, 40, 48)
WHITE = (255, 255, 255)
CARD = (255, 252, 244)
SNOW = (250, 252, 255)


class Pic:
    """A canvas whose coordinates are given in output pixels (800x600)."""

    def __init__(self, bg=SKY):
        self.img = Image.new("RGB", (W * S, H * S), bg)
        self.d = ImageDraw.Draw(self.img)

    # -- primitives ---------------------------------------------------------
    @staticmethod
    def _p(pts):
        return [(x * S, y * S) for x, y in pts]

    def line(self, pts, fill=INK, width=3):
        self.d.line(self._p(pts), fill=fill, width=int(width * S), joint="curve")
        for x, y in (pts[0], pts[-1]):     # round caps
            r = width / 2
            self.d.ellipse([(x - r) * S, (y - r) * S, (x + r) * S, (y + r) * S], fill=fill)

    def poly(self, pts, fill=None, outline=INK, width=3):
        self.d.polygon(self._p(pts), fill=fill)
        if outline is not None and width:
            self.line(list(pts) + [pts[0]], fill=outline, width=width)

    def rect(self, x0, y0, x1, y1, fill=None, outline=INK, width=3, radius=0):
        box = [x0 * S, y0 * S, x1 * S, y1 * S]
        self.d.rounded_rectangle(box, radius=radius * S, fill=fill,
                                 outline=outline, width=int(width * S) if outline else 0)

    def ellipse(self, cx, cy, rx, ry, fill=None, outline=INK, width=3):
        box = [(cx - rx) * S, (cy - ry) * S, (cx + rx) * S, (cy + ry) * S]
        self.d.ellipse(box, fill=fill, outline=outline, width=int(width * S) if outline else 0)

    def arc(self, cx, cy, rx, ry, start, end, fill=INK, width=3):
        box = [(cx - rx) * S, (cy - ry) * S, (cx + rx) * S, (cy + ry) * S]
        self.d.arc(box, start, end, fill=fill, width=int(width * S))

    def dashed(self, pts, fill=INK, width=3, dash=14, gap=10):
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            length = math.hypot(x1 - x0, y1 - y0)
            if not length:
                continue
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            t = 0.0
            while t < length:
                t2 = min(t + dash, length)
                self.line([(x0 + ux * t, y0 + uy * t), (x0 + ux * t2, y0 + uy * t2)], fill, width)
                t += dash + gap

    def arrow(self, x0, y0, x1, y1, fill=INK, width=5, head=16, both=False):
        ang = math.atan2(y1 - y0, x1 - x0)

        def tip(x, y, a):
            left = (x - head * math.cos(a - 0.45), y - head * math.sin(a - 0.45))
            right = (x - head * math.cos(a + 0.45), y - head * math.sin(a + 0.45))
            self.poly([(x, y), left, right], fill=fill, outline=fill, width=1)

        sx = x0 + (head * 0.6 * math.cos(ang) if both else 0)
        sy = y0 + (head * 0.6 * math.sin(ang) if both else 0)
        ex, ey = x1 - head * 0.6 * math.cos(ang), y1 - head * 0.6 * math.sin(ang)
        self.line([(sx, sy), (ex, ey)], fill, width)
        tip(x1, y1, ang)
        if both:
            tip(x0, y0, ang + math.pi)

    def curved_arrow(self, cx, cy, r, start, end, fill=INK, width=5, head=14):
        """Arc from start to end degrees (clockwise in screen space) with a head at end."""
        self.arc(cx, cy, r, r, start, end, fill, width)
        a = math.radians(end)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        tangent = a + math.pi / 2
        left = (x - head * math.cos(tangent - 0.5), y - head * math.sin(tangent - 0.5))
        right = (x - head * math.cos(tangent + 0.5), y - head * math.sin(tangent + 0.5))
        self.poly([(x + 4 * math.cos(tangent), y + 4 * math.sin(tangent)), left, right],
                  fill=fill, outline=fill, width=1)

    # -- symbols ------------------------------------------------------------
    def badge(self, n):
        """The step number in a circle, top left: the only 'text' in a picture."""
        cx, cy, r = 48, 48, 34
        self.ellipse(cx, cy, r + 3, r + 3, fill=WHITE, outline=None)
        self.ellipse(cx, cy, r, r, fill=TARP_DARK, outline=None)
        font = _font(44)
        self.d.text((cx * S, cy * S + 2 * S), str(n), fill=WHITE, font=font, anchor="mm")

    def ok(self, cx, cy, r=24):
        self.ellipse(cx, cy, r, r, fill=GREEN, outline=WHITE, width=3)
        self.line([(cx - r * 0.45, cy + r * 0.02), (cx - r * 0.1, cy + r * 0.38),
                   (cx + r * 0.5, cy - r * 0.35)], fill=WHITE, width=r * 0.22)

    def no(self, cx, cy, r=24):
        self.ellipse(cx, cy, r, r, fill=RED, outline=WHITE, width=3)
        k = r * 0.42
        self.line([(cx - k, cy - k), (cx + k, cy + k)], fill=WHITE, width=r * 0.22)
        self.line([(cx - k, cy + k), (cx + k, cy - k)], fill=WHITE, width=r * 0.22)

    def forbid(self, cx, cy, r):
        """Red ring with a bar, drawn over something that must not be done."""
        self.ellipse(cx, cy, r, r, fill=None, outline=RED, width=r * 0.16)
        k = r * 0.7
        self.line([(cx - k, cy - k), (cx + k, cy + k)], fill=RED, width=r * 0.16)

    def warning(self, cx, cy, size=60):
        h = size * math.sqrt(3) / 2
        pts = [(cx, cy - h * 0.62), (cx + size / 2, cy + h * 0.38), (cx - size / 2, cy + h * 0.38)]
        self.poly(pts, fill=YELLOW, outline=INK, width=max(3, size / 16))
        self.rect(cx - size * 0.05, cy - h * 0.3, cx + size * 0.05, cy + h * 0.08,
                  fill=INK, outline=None, radius=size * 0.03)
        self.ellipse(cx, cy + h * 0.22, size * 0.06, size * 0.06, fill=INK, outline=None)

    def raindrop(self, x, y, s=10, fill=WATER):
        self.poly([(x, y - s * 1.6), (x + s * 0.8, y), (x - s * 0.8, y)], fill=fill, outline=None, width=0)
        self.ellipse(x, y + s * 0.1, s * 0.8, s * 0.8, fill=fill, outline=None)

    def snowflake(self, x, y, r=16, fill=WHITE, width=3):
        for k in range(3):
            a = math.radians(90 + 60 * k)
            dx, dy = r * math.cos(a), r * math.sin(a)
            self.line([(x - dx, y - dy), (x + dx, y + dy)], fill, width)
            for sgn in (1, -1):
                bx, by = x + sgn * dx * 0.6, y + sgn * dy * 0.6
                for t in (a + 2.4, a - 2.4):
                    ex = bx + sgn * r * 0.35 * math.cos(t)
                    ey = by + sgn * r * 0.35 * math.sin(t)
                    self.line([(bx, by), (ex, ey)], fill, width * 0.8)

    def wind(self, x, y, length=90, fill=(120, 150, 180)):
        for k, dy in enumerate((0, 26, 52)):
            ln = length - 20 * (k % 2)
            self.line([(x, y + dy), (x + ln, y + dy)], fill, 5)
            self.arc(x + ln, y + dy - 10, 10, 10, 270, 450, fill, 5)

    def inset(self, cx, cy, r, fill=CARD):
        """A round magnifier frame: returns nothing, draw the detail inside after it."""
        self.ellipse(cx, cy, r + 5, r + 5, fill=INK, outline=None)
        self.ellipse(cx, cy, r, r, fill=fill, outline=None)

    def save(self, name):
        OUT.mkdir(parents=True, exist_ok=True)
        small = self.img.resize((W, H), Image.LANCZOS)
        pal = small.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        path = OUT / name
        pal.save(path, optimize=True)
        return path


_FONT_CACHE: dict[int, ImageFont.ImageFont] = {}


def _font(size):
    if size not in _FONT_CACHE:
        font = None
        for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                     "LiberationSans-Bold.ttf", "Arial Bold.ttf"):
            try:
                font = ImageFont.truetype(name, size * S)
                break
            except OSError:
                continue
        if font is None:
            font = ImageFont.load_default(size=size * S)
        _FONT_CACHE[size] = font
    return _FONT_CACHE[size]


# ---------------------------------------------------------------------------
# reusable objects
# ---------------------------------------------------------------------------

def ground(p, y, fill=GROUND, top=None):
    p.rect(-5, y, W + 5, H + 5, fill=fill, outline=None)
    p.line([(0, y), (W, y)], fill=GROUND_DARK if top is None else top, width=3)


def nail(p, x, y, length=60, angle=0, head=9, roofing=False):
    """A nail pointing in direction `angle` (radians; 0 = right) from its head at (x, y)."""
    ca, sa = math.cos(angle), math.sin(angle)
    nx, ny = -sa, ca
    tipx, tipy = x + ca * length, y + sa * length
    w = 3
    shaft = [(x + nx * w, y + ny * w), (tipx - ca * 8 + nx * w, tipy - sa * 8 + ny * w), (tipx, tipy),
             (tipx - ca * 8 - nx * w, tipy - sa * 8 - ny * w), (x - nx * w, y - ny * w)]
    p.poly(shaft, fill=METAL, outline=METAL_DARK, width=1.5)
    if roofing:
        for k in range(3, 8):                   # twisted shank
            t = length * k / 10
            p.line([(x + ca * t + nx * w, y + sa * t + ny * w),
                    (x + ca * (t + 4) - nx * w, y + sa * (t + 4) - ny * w)], METAL_DARK, 1.5)
        hx, hy = x - ca * 2, y - sa * 2           # umbrella head
        p.poly([(hx + nx * head * 1.6, hy + ny * head * 1.6), (hx - ca * 9, hy - sa * 9),
                (hx - nx * head * 1.6, hy - ny * head * 1.6)], fill=METAL_DARK, outline=INK, width=2)
    else:
        p.poly([(x + nx * head, y + ny * head), (x + nx * head - ca * 5, y + ny * head - sa * 5),
                (x - nx * head - ca * 5, y - ny * head - sa * 5), (x - nx * head, y - ny * head)],
               fill=METAL_DARK, outline=INK, width=1.5)


def coil(p, cx, cy, rx, ry, turns, color, dark, width):
    """A coil of rope or wire: loops shifted a little each turn so they read as separate."""
    for k in range(turns):
        ox, oy = (k - (turns - 1) / 2) * width * 1.4, (k - (turns - 1) / 2) * width * 0.5
        p.ellipse(cx + ox, cy + oy, rx, ry, fill=None, outline=dark, width=width + 3)
        p.ellipse(cx + ox, cy + oy, rx, ry, fill=None, outline=color, width=width)


def hammer(p, x, y, scale=1.0, angle=-0.5):
    """Claw hammer, handle end at (x, y), pointing along `angle`."""
    L = 150 * scale
    ca, sa = math.cos(angle), math.sin(angle)
    nx, ny = -sa, ca                      # across the handle

    def at(u, v):                          # u along the handle from its end, v across it
        return (x + ca * u + nx * v, y + sa * u + ny * v)

    w = 9 * scale
    p.poly([at(0, w), at(L, w * 0.8), at(L, -w * 0.8), at(0, -w)], fill=WOOD, outline=INK)
    b = 15 * scale                          # half thickness of the head
    head = [at(L - b, 50 * scale), at(L + b, 50 * scale),          # striking face side
            at(L + b, -8 * scale),
            at(L + b * 0.6, -30 * scale), at(L - 4 * scale, -52 * scale), at(L - 20 * scale, -62 * scale),
            at(L - 10 * scale, -40 * scale), at(L - b, -10 * scale)]     # curved claw
    p.poly(head, fill=METAL, outline=INK)
    p.poly([at(L - b - 3 * scale, 50 * scale), at(L + b + 3 * scale, 50 * scale),
            at(L + b + 3 * scale, 38 * scale), at(L - b - 3 * scale, 38 * scale)], fill=METAL_DARK, outline=INK,
           width=2)
    p.line([at(L - 2 * scale, -20 * scale), at(L - 8 * scale, -48 * scale)], INK, 2.5)   # claw split


def saw(p, x0, y0, length=200):
    """Hand saw lying flat, handle on the left at (x0, y0)."""
    blade = [(x0 + 40, y0 - 22), (x0 + length, y0 - 8), (x0 + length, y0 + 6), (x0 + 40, y0 + 26)]
    p.poly(blade, fill=METAL, outline=INK)
    teeth = []
    n = 14
    for k in range(n + 1):
        t = k / n
        bx = x0 + 40 + (length - 40) * t
        by = y0 + 26 + (6 - 26) * t
        teeth.append((bx, by))
        if k < n:
            teeth.append((bx + (length - 40) / n / 2, by + 7))
    p.line(teeth, INK, 2)
    p.poly([(x0 - 10, y0 - 30), (x0 + 45, y0 - 26), (x0 + 45, y0 + 30), (x0 - 10, y0 + 34),
            (x0 - 18, y0 + 2)], fill=WOOD, outline=INK)
    p.ellipse(x0 + 14, y0 + 2, 12, 16, fill=CARD, outline=INK)


def shovel(p, x, y, length=300, angle=0.0):
    """Shovel lying with grip at (x, y), blade along `angle`."""
    ca, sa = math.cos(angle), math.sin(angle)
    nx, ny = -sa, ca
    ex, ey = x + ca * (length - 70), y + sa * (length - 70)
    p.line([(x, y), (ex, ey)], INK, 12)
    p.line([(x, y), (ex, ey)], WOOD, 8)
    # D grip
    p.ellipse(x - ca * 14, y - sa * 14, 16, 16, fill=None, outline=INK, width=6)
    # blade
    b = [(ex + nx * 12, ey + ny * 12), (ex + ca * 20 + nx * 30, ey + sa * 20 + ny * 30),
         (ex + ca * 70 + nx * 22, ey + sa * 70 + ny * 22), (ex + ca * 85, ey + sa * 85),
         (ex + ca * 70 - nx * 22, ey + sa * 70 - ny * 22), (ex + ca * 20 - nx * 30, ey + sa * 20 - ny * 30),
         (ex - nx * 12, ey - ny * 12)]
    p.poly(b, fill=METAL, outline=INK)


def hoe(p, x, y, length=280):
    """Hoe lying horizontally, handle from (x, y) to the right, blade at the right end."""
    p.line([(x, y), (x + length, y)], INK, 12)
    p.line([(x, y), (x + length, y)], WOOD, 8)
    p.poly([(x + length - 6, y - 10), (x + length + 14, y - 14), (x + length + 26, y + 50),
            (x + length - 20, y + 56)], fill=METAL, outline=INK)


def machete(p, x, y, length=230):
    p.rect(x, y - 10, x + 60, y + 10, fill=WOOD_DARK, outline=INK, radius=6)
    for k in (15, 30, 45):
        p.ellipse(x + k, y, 3, 3, fill=METAL, outline=None)
    p.poly([(x + 60, y - 10), (x + length - 30, y - 16), (x + length, y - 26), (x + length - 6, y + 2),
            (x + length - 40, y + 16), (x + 60, y + 12)], fill=METAL, outline=INK)


def snips(p, cx, cy):
    """Tin snips: two handles and short jaws, seen from above."""
    p.poly([(cx - 80, cy - 34), (cx - 74, cy - 46), (cx + 2, cy - 8), (cx - 4, cy + 6)], fill=RED, outline=INK)
    p.poly([(cx - 80, cy + 34), (cx - 74, cy + 46), (cx + 2, cy + 8), (cx - 4, cy - 6)], fill=RED, outline=INK)
    p.poly([(cx - 6, cy - 10), (cx + 58, cy - 8), (cx + 64, cy - 2), (cx - 6, cy + 2)], fill=METAL, outline=INK)
    p.poly([(cx - 6, cy + 10), (cx + 58, cy + 8), (cx + 64, cy + 2), (cx - 6, cy - 2)], fill=METAL, outline=INK)
    p.ellipse(cx, cy, 7, 7, fill=METAL_DARK, outline=INK, width=2)


def tarp_folded(p, x, y, w=170, h=110):
    p.rect(x, y, x + w, y + h, fill=TARP, outline=INK, radius=6)
    p.rect(x + 8, y + 8, x + w - 8, y + h - 8, fill=None, outline=WHITE, width=3, radius=4)
    for k in range(1, 3):
        p.line([(x + 8, y + h * k / 3), (x + w - 8, y + h * k / 3)], TARP_DARK, 2)
    for ex in (x + 16, x + w - 16):
        for ey in (y + 16, y + h - 16):
            p.ellipse(ex, ey, 5, 5, fill=METAL, outline=INK, width=1.5)


class Frame:
    """A simple ridge-roof timber frame in oblique view; shared by steps 3, 4, 6 and 7."""

    def __init__(self, x=200, g=500, width=300, wall=140, ridge=260, depth=(160, -70)):
        self.dx, self.dy = depth
        self.fl_b, self.fr_b, self.fm_b = (x, g), (x + width, g), (x + width / 2, g)
        self.fl_t, self.fr_t, self.fm_t = (x, g - wall), (x + width, g - wall), (x + width / 2, g - ridge)

    def back(self, pt):
        return (pt[0] + self.dx, pt[1] + self.dy)

    def mid(self, pt, t=0.5):
        return (pt[0] + self.dx * t, pt[1] + self.dy * t)

    def members(self):
        """(back_members, front_members): lists of (start, end) segments."""
        b = self.back
        back = [(b(self.fl_b), b(self.fl_t)), (b(self.fr_b), b(self.fr_t)), (b(self.fm_b), b(self.fm_t)),
                (b(self.fl_t), b(self.fm_t)), (b(self.fr_t), b(self.fm_t)), (b(self.fl_t), b(self.fr_t))]
        side = [(self.fl_t, b(self.fl_t)), (self.fr_t, b(self.fr_t)), (self.fm_t, b(self.fm_t)),
                (self.mid(self.fl_t), self.mid(self.fm_t)), (self.mid(self.fr_t), self.mid(self.fm_t)),
                (self.fr_b, self.mid(self.fr_t)), (b(self.fr_b), self.mid(self.fr_t))]
        front = [(self.fl_b, self.fl_t), (self.fr_b, self.fr_t), (self.fm_b, self.fm_t),
                 (self.fl_t, self.fm_t), (self.fr_t, self.fm_t), (self.fl_t, self.fr_t)]
        return back, side, front

    def draw(self, p, holes=True, width=11):
        back, side, front = self.members()
        if holes:
            for pt in (self.fl_b, self.fr_b, self.fm_b, self.back(self.fl_b), self.back(self.fr_b),
                       self.back(self.fm_b)):
                p.ellipse(pt[0], pt[1] + 2, 22, 8, fill=SOIL, outline=None)
        for group, col in ((back, WOOD_DARK), (side, WOOD), (front, WOOD)):
            for a, c in group:
                p.line([a, c], INK, width + 4)
                p.line([a, c], col, width)

    def right_roof(self):
        return [self.fm_t, self.back(self.fm_t), self.back(self.fr_t), self.fr_t]

    def left_roof(self):
        return [self.fl_t, self.back(self.fl_t), self.back(self.fm_t), self.fm_t]

    def right_wall(self):
        return [self.fr_t, self.back(self.fr_t), self.back(self.fr_b), self.fr_b]

    def front_gable(self):
        return [self.fl_b, self.fl_t, self.fm_t, self.fr_t, self.fr_b]

    def covered(self, p, color=TARP, dark=TARP_DARK, door=True):
        """Draw the whole shelter covered with sheeting (front, right wall, both roof slopes)."""
        p.poly(self.left_roof(), fill=TARP_LIGHT, outline=INK)
        p.poly(self.right_roof(), fill=color, outline=INK)
        p.poly(self.right_wall(), fill=dark, outline=INK)
        p.poly(self.front_gable(), fill=color, outline=INK)
        if door:
            x0, x1 = self.fm_b[0] - 40, self.fm_b[0] + 40
            p.poly([(x0, self.fm_b[1]), (x0, self.fl_t[1] + 20), (x1, self.fl_t[1] + 20), (x1, self.fm_b[1])],
                   fill=dark, outline=INK)


# ---------------------------------------------------------------------------
# the seven pictures
# ---------------------------------------------------------------------------

def step1_kit():
    p = Pic(PAPER)
    # a mat on which the kit is laid out
    p.rect(20, 100, 780, 585, fill=(236, 226, 204), outline=GROUND_DARK, width=3, radius=18)
    # two tarpaulins
    tarp_folded(p, 60, 130)
    tarp_folded(p, 90, 160)
    # rope coil
    coil(p, 380, 200, 75, 48, 5, ROPE, ROPE_DARK, 6)
    p.line([(440, 225), (470, 255), (455, 275)], ROPE_DARK, 8)
    p.line([(440, 225), (470, 255), (455, 275)], ROPE, 5)
    # tie wire coil
    coil(p, 560, 200, 48, 34, 6, METAL, METAL_DARK, 3)
    # nails (a small pile) and roofing nails
    for k in range(5):
        nail(p, 625 + k * 30, 128, length=62, angle=1.3)
    for k in range(3):
        nail(p, 640 + k * 45, 232, length=52, angle=1.5, roofing=True)
    # long tools
    shovel(p, 70, 340, length=330, angle=0.0)
    hoe(p, 60, 420, length=300)
    # hammer, saw, machete, snips
    hammer(p, 470, 390, scale=1.0, angle=-0.35)
    saw(p, 75, 520, length=250)
    machete(p, 390, 530, length=210)
    snips(p, 700, 440)
    p.badge(1)
    return p


def step2_site():
    p = Pic(SKY)
    # low ground with a flood path on the left, raised flat ground on the right
    p.poly([(-5, 470), (170, 470), (250, 400), (805, 400), (805, 605), (-5, 605)], fill=GROUND, outline=None)
    p.line([(-5, 470), (170, 470), (250, 400), (805, 400)], GROUND_DARK, 3)
    p.poly([(-5, 462), (165, 462), (175, 478), (-5, 478)], fill=WATER, outline=None)
    for x in range(10, 170, 40):
        p.arc(x + 10, 466, 12, 6, 180, 360, WHITE, 3)
    p.arrow(20, 445, 140, 445, WATER, 5)
    # a shelter in the flood path: crossed out
    p.poly([(50, 462), (95, 400), (140, 462)], fill=TARP_LIGHT, outline=INK)
    p.forbid(95, 430, 58)
    # power line between two poles: no shelter under the wires
    for px in (650, 790):
        p.line([(px, 400), (px, 170)], INK, 12)
        p.line([(px, 400), (px, 170)], WOOD_DARK, 8)
        p.line([(px - 22, 182), (px + 22, 182)], INK, 7)
    for dx in (-18, 18):
        p.line([(650 + dx + 140 * t / 10, 182 + 16 * math.sin(math.pi * t / 10)) for t in range(11)], INK, 3)
    p.poly([(690, 400), (720, 350), (750, 400)], fill=TARP_LIGHT, outline=INK)
    bolt = [(728, 222), (708, 258), (722, 258), (710, 290), (738, 250), (724, 250), (736, 222)]
    p.poly(bolt, fill=YELLOW, outline=INK, width=2)
    p.forbid(720, 345, 50)
    # stones cleared from the site, pushed to one side
    for x, y, r in [(610, 392, 10), (592, 395, 7), (626, 395, 7)]:
        p.ellipse(x, y, r, r * 0.7, fill=(150, 150, 150), outline=INK, width=2)
    # the chosen site: flat, raised, cleared - dashed outline and a tick
    p.dashed([(270, 400), (270, 320), (335, 272), (400, 320), (400, 400)], GREEN, 5)
    p.ok(335, 232, 26)
    # neighbour shelter, with a distance arrow between the two
    p.poly([(480, 400), (480, 330), (525, 295), (570, 330), (570, 400)], fill=TARP, outline=INK)
    p.arrow(408, 360, 472, 360, INK, 4, head=12, both=True)
    # distance from the flood path
    p.arrow(180, 360, 262, 360, INK, 4, head=12, both=True)
    # level: a flat line with bubble under the site
    p.rect(275, 420, 395, 440, fill=YELLOW, outline=INK, width=2, radius=4)
    p.ellipse(335, 430, 12, 6, fill=GREEN, outline=INK, width=2)
    p.badge(2)
    return p


def step3_frame():
    p = Pic(SKY)
    ground(p, 440)
    f = Frame(x=100, g=545, width=260, wall=150, ridge=270, depth=(200, -70))
    f.draw(p)
    # inset 1: post in a dug hole (cross-section)
    cx, cy, r = 680, 430, 100
    p.inset(cx, cy, r, fill=SKY)
    p.d.pieslice([(cx - r) * S, (cy - r) * S, (cx + r) * S, (cy + r) * S], 0, 180, fill=GROUND)
    p.line([(cx - r, cy), (cx + r, cy)], GROUND_DARK, 3)
    p.poly([(cx - 28, cy), (cx + 28, cy), (cx + 22, cy + 72), (cx - 22, cy + 72)], fill=SOIL, outline=None)
    p.rect(cx - 10, cy - 85, cx + 10, cy + 66, fill=WOOD, outline=INK, width=3)
    p.arrow(cx + 42, cy + 4, cx + 42, cy + 66, INK, 4, head=12, both=True)
    for k in range(3):                          # tamping marks: soil packed hard
        p.line([(cx - 26 + k * 6, cy + 20 + k * 16), (cx - 14 + k * 6, cy + 20 + k * 16)], GROUND_DARK, 3)
        p.line([(cx + 14 - k * 6, cy + 20 + k * 16), (cx + 26 - k * 6, cy + 20 + k * 16)], GROUND_DARK, 3)
    # inset 2: joint tied with wire and nailed
    cx, cy, r = 680, 150, 95
    p.inset(cx, cy, r)
    p.line([(cx - 20, cy + 95), (cx - 20, cy - 40)], INK, 30)
    p.line([(cx - 20, cy + 95), (cx - 20, cy - 40)], WOOD, 24)
    p.line([(cx - 90, cy - 20), (cx + 90, cy - 20)], INK, 30)
    p.line([(cx - 90, cy - 20), (cx + 90, cy - 20)], WOOD_DARK, 24)
    jx, jy, h = cx - 20, cy - 20, 17          # tie wire wrapped diagonally round the joint
    for o in (-7, -2.5, 2, 6.5):
        p.line([(jx - h + o, jy - h - o), (jx + h + o, jy + h - o)], INK, 4)
        p.line([(jx - h + o, jy - h - o), (jx + h + o, jy + h - o)], METAL, 2)
    for o in (-7, -2.5, 2, 6.5):
        p.line([(jx + h + o, jy - h + o), (jx - h + o, jy + h + o)], INK, 4)
        p.line([(jx + h + o, jy - h + o), (jx - h + o, jy + h + o)], METAL, 2)
    p.line([(cx - 25, cy + 40), (cx + 50, cy - 20)], INK, 18)       # diagonal brace
    p.line([(cx - 25, cy + 40), (cx + 50, cy - 20)], WOOD, 12)
    for x, y in [(cx + 40, cy - 20), (cx - 20, cy + 28), (cx + 60, cy - 20)]:
        p.ellipse(x, y, 4, 4, fill=METAL_DARK, outline=INK, width=1.5)
    # hammer next to the frame
    hammer(p, 425, 548, scale=0.7, angle=-0.12)
    p.badge(3)
    return p


def step4_sheeting():
    p = Pic(SKY)
    ground(p, 470)
    f = Frame(x=90, g=545, width=260, wall=150, ridge=270, depth=(200, -70))
    f.draw(p, holes=False)
    # sheet on the right roof slope and right wall, held by battens
    p.poly(f.right_roof(), fill=TARP, outline=INK)
    p.poly(f.right_wall(), fill=TARP_DARK, outline=INK)
    for a, c in [(f.fm_t, f.back(f.fm_t)), (f.fr_t, f.back(f.fr_t)), (f.fr_b, f.back(f.fr_b))]:
        p.line([a, c], INK, 12)
        p.line([a, c], WOOD, 8)
        for t in (0.15, 0.5, 0.85):
            p.ellipse(a[0] + (c[0] - a[0]) * t, a[1] + (c[1] - a[1]) * t, 3.5, 3.5,
                      fill=METAL_DARK, outline=None)
    # pull tight
    p.arrow(f.fm_t[0] + 90, f.fm_t[1] + 40, f.fm_t[0] + 30, f.fm_t[1] + 5, WHITE, 6)
    p.arrow(f.fr_t[0] + 30, f.fr_t[1] + 10, f.fr_t[0] + 90, f.fr_t[1] + 40, WHITE, 6)
    # inset 1 (right): sheet wrapped round a batten, nailed through the wood: OK
    cx, cy, r = 690, 175, 100
    p.inset(cx, cy, r)
    p.rect(cx - 80, cy + 20, cx + 80, cy + 60, fill=WOOD_DARK, outline=INK, width=3)     # beam
    p.rect(cx - 60, cy - 22, cx + 60, cy + 4, fill=WOOD, outline=INK, width=3)           # batten
    p.line([(cx - 95, cy + 14), (cx + 64, cy + 14), (cx + 72, cy + 8), (cx + 72, cy - 22),
            (cx + 66, cy - 30), (cx - 64, cy - 30), (cx - 70, cy - 24), (cx - 70, cy - 4)], TARP, 6)
    for x in (cx - 30, cx + 30):
        nail(p, x, cy - 42, length=78, angle=math.pi / 2, head=9)
    p.ok(cx + 62, cy - 68, 22)
    # inset 2 (right, lower): nail straight through the plastic: tears - not OK
    cx, cy, r = 690, 410, 92
    p.inset(cx, cy, r)
    p.rect(cx - 75, cy + 10, cx + 75, cy + 48, fill=WOOD_DARK, outline=INK, width=3)
    p.line([(cx - 85, cy + 4), (cx + 85, cy + 4)], TARP, 6)
    nail(p, cx, cy - 58, length=80, angle=math.pi / 2, head=9)
    for a in (-2.6, -2.2, -0.9, -0.5):
        p.line([(cx + 8 * math.cos(a), cy + 4 + 8 * math.sin(a)),
                (cx + 28 * math.cos(a), cy + 4 + 28 * math.sin(a) * 0.4)], INK, 3)
    p.no(cx + 58, cy - 58, 22)
    p.badge(4)
    return p


def step5_drainage():
    p = Pic(SKY)
    # rain
    for x in range(40, 520, 55):
        for y in (100, 150):
            p.raindrop(x + (y % 3) * 8, y + (x % 30), 7)
    # ground in cross-section with a trench each side; floor raised on a mound
    g = 420
    p.poly([(-5, g), (70, g), (85, g + 40), (115, g + 40), (130, g), (170, g), (180, g - 18), (430, g - 18),
            (440, g), (470, g), (485, g + 40), (515, g + 40), (530, g + 8), (580, g + 10), (580, 605), (-5, 605)],
           fill=GROUND, outline=None)
    p.line([(-5, g), (70, g), (85, g + 40), (115, g + 40), (130, g), (170, g), (180, g - 18), (430, g - 18),
            (440, g), (470, g), (485, g + 40), (515, g + 40), (530, g + 8), (580, g + 10)], GROUND_DARK, 3)
    p.rect(85, g + 24, 115, g + 40, fill=WATER, outline=None)
    p.rect(485, g + 24, 515, g + 40, fill=WATER, outline=None)
    # shelter on the raised floor
    p.poly([(190, g - 18), (190, g - 140), (305, g - 230), (420, g - 140), (420, g - 18)], fill=TARP, outline=INK)
    p.line([(175, g - 128), (305, g - 232), (435, g - 128)], TARP_DARK, 7)
    p.rect(280, g - 110, 330, g - 18, fill=TARP_DARK, outline=INK)
    # rain runs off the roof into the trenches
    p.arrow(178, g - 135, 106, g + 12, WATER, 6)
    p.arrow(432, g - 135, 494, g + 12, WATER, 6)
    # the floor is raised: a layer of packed earth under the shelter
    p.poly([(170, g), (180, g - 18), (430, g - 18), (440, g)], fill=GROUND_DARK, outline=INK, width=2)
    # plan view (from above): trench all round, leading downhill away from shelters
    p.rect(575, 100, 790, 590, fill=GRASS, outline=INK, width=3, radius=14)
    p.rect(615, 200, 745, 330, fill=None, outline=WATER, width=12, radius=6)
    p.rect(632, 217, 728, 313, fill=TARP, outline=INK, width=3)
    p.line([(632, 217), (728, 313)], TARP_DARK, 3)
    p.line([(728, 217), (632, 313)], TARP_DARK, 3)
    p.line([(680, 330), (680, 420), (700, 470), (700, 570)], WATER, 12)
    for y in (360, 460, 540):
        p.arrow(660 if y < 420 else 678, y - 20, 660 if y < 420 else 678, y + 20, INK, 4, head=11)
    p.arrow(765, 140, 765, 560, GROUND_DARK, 6, head=18)    # slope: downhill
    p.badge(5)
    return p


def step6_safety():
    p = Pic(SKY)
    ground(p, 500)
    p.wind(30, 120)
    # the shelter cut open (cross-section): inside we see the heater and the space around it
    L, R, G, E, RX, RY = 200, 600, 500, 340, 400, 200
    p.poly([(L, G), (L, E), (RX, RY), (R, E), (R, G)], fill=(236, 242, 248), outline=None)
    p.rect(L, G - 12, R, G, fill=GROUND_DARK, outline=None)                     # raised floor
    for x in (L, R):                                                            # posts
        p.line([(x, G + 10), (x, E)], INK, 14)
        p.line([(x, G + 10), (x, E)], WOOD, 10)
    # sheeting: walls and roof, with a vent gap under a cap at the ridge
    p.line([(L - 8, G), (L - 8, E - 4), (RX - 22, RY + 18)], TARP, 9)
    p.line([(R + 8, G), (R + 8, E - 4), (RX + 22, RY + 18)], TARP, 9)
    p.line([(RX - 46, RY + 4), (RX, RY - 28), (RX + 46, RY + 4)], TARP_DARK, 9)
    p.curved_arrow(RX + 36, RY - 14, 34, 160, 290, GREEN, 5, head=13)
    # heater in the middle, well away from the plastic walls
    hx, hy = RX, G - 12
    p.rect(hx - 30, hy - 78, hx + 30, hy, fill=METAL_DARK, outline=INK, width=3, radius=8)
    p.rect(hx - 19, hy - 62, hx + 19, hy - 22, fill=ORANGE, outline=INK, width=2, radius=4)
    p.poly([(hx - 9, hy - 27), (hx, hy - 56), (hx + 9, hy - 27)], fill=YELLOW, outline=None, width=0)
    p.arrow(L + 8, hy - 40, hx - 38, hy - 40, RED, 5, head=14, both=True)
    p.arrow(hx + 38, hy - 40, R - 8, hy - 40, RED, 5, head=14, both=True)
    p.warning(hx, hy - 150, 70)
    # bucket of sand ready near the shelter
    bx = 757
    p.poly([(bx - 19, G + 2), (bx - 25, G - 40), (bx + 25, G - 40), (bx + 19, G + 2)], fill=RED, outline=INK)
    p.ellipse(bx, G - 40, 25, 7, fill=(236, 210, 140), outline=INK, width=2)
    # guy ropes and pegs, checked
    for top, peg, ok in [((L - 8, E), (90, 540), (70, 400)), ((R + 8, E), (700, 540), (730, 400))]:
        p.line([top, peg], ROPE_DARK, 6)
        p.line([top, peg], ROPE, 3)
        p.poly([(peg[0] - 7, peg[1] - 22), (peg[0] + 7, peg[1] - 22), (peg[0], peg[1] + 12)],
               fill=WOOD, outline=INK, width=2)
        p.ok(*ok, 22)
    p.badge(6)
    return p


def step7_maintenance():
    p = Pic((196, 212, 232))                      # a grey winter sky
    # left: a tear in the sheet, then the same sheet with a patch on it
    for x0, patched in ((30, False), (235, True)):
        p.rect(x0, 110, x0 + 150, 300, fill=TARP, outline=INK, width=3, radius=6)
        p.line([(x0 + 40, 170), (x0 + 60, 190), (x0 + 50, 205), (x0 + 78, 225), (x0 + 70, 240),
                (x0 + 100, 255)], INK, 4)
        if patched:
            p.rect(x0 + 22, 150, x0 + 120, 275, fill=TARP_LIGHT, outline=INK, width=3, radius=4)
            p.dashed([(x0 + 30, 158), (x0 + 112, 158), (x0 + 112, 267), (x0 + 30, 267), (x0 + 30, 158)],
                     WHITE, 3, dash=8, gap=6)
    p.arrow(188, 205, 226, 205, INK, 6, head=16)
    p.ok(365, 120, 22)
    # right: shelter ready for winter - second layer, edges weighed down, ropes re-tightened
    ground(p, 470)
    for x, y in [(430, 70), (530, 150), (640, 60), (750, 130), (470, 230), (720, 250), (170, 370),
                 (60, 400), (300, 350), (400, 420)]:
        p.snowflake(x, y, 15, WHITE, 3.5)
    f = Frame(x=430, g=540, width=200, wall=110, ridge=200, depth=(110, -50))
    off = -10                                     # outer layer drawn a little larger
    outer = Frame(x=430 + off, g=540, width=200 - 2 * off, wall=110 - off, ridge=200 - off * 2,
                  depth=(110, -50))
    outer.covered(p, color=TARP_LIGHT, dark=TARP, door=False)
    f.covered(p)
    # stones / sandbags along the bottom edges
    for x in range(432, 640, 34):
        p.ellipse(x, 545, 17, 11, fill=(200, 190, 160), outline=INK, width=2)
    for k in range(4):
        bx, by = 640 + k * 28, 536 - k * 13
        p.ellipse(bx, by, 16, 10, fill=(200, 190, 160), outline=INK, width=2)
    # re-tighten the rope at its peg
    peg = (330, 560)
    p.line([f.fl_t, peg], ROPE_DARK, 5)
    p.line([f.fl_t, peg], ROPE, 3)
    p.poly([(peg[0] - 7, peg[1] - 20), (peg[0] + 7, peg[1] - 20), (peg[0], peg[1] + 10)],
           fill=WOOD, outline=INK, width=2)
    p.curved_arrow(peg[0] + 4, peg[1] - 30, 34, 200, 470, GREEN, 5, head=13)
    # the same sheet, hand-sized hammer and nails for repairs
    hammer(p, 60, 560, scale=0.7, angle=-0.7)
    nail(p, 180, 500, 50, angle=1.2, roofing=True)
    nail(p, 215, 505, 50, angle=1.4, roofing=True)
    p.badge(7)
    return p


STEPS = [
    ("01-kit-contents.png", step1_kit),
    ("02-site.png", step2_site),
    ("03-frame.png", step3_frame),
    ("04-sheeting.png", step4_sheeting),
    ("05-drainage.png", step5_drainage),
    ("06-safety-checks.png", step6_safety),
    ("07-maintenance.png", step7_maintenance),
]


def main():
    for name, draw in STEPS:
        path = draw().save(name)
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
