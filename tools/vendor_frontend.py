"""Vendor the compiled GOV.UK Frontend (for the browser application) and axe-core (for its accessibility
tests) from their npm packages, so that installing dfg needs no Node.

Run from the repository root when moving to a new version (edit the versions below first):

    .venv/bin/python tools/vendor_frontend.py

It runs ``npm pack`` for each package, checks the tarball against the registry's integrity, and writes
the files with their version and SHA-256 to ``VENDORED.toml`` beside them. GOV.UK Frontend is trimmed of
the GOV.UK brand, which councils may not use: the GDS Transport font faces are removed and the type
becomes the Atkinson Hyperlegible the letters ship; the crown, crest and GOV.UK icons are not copied.
``tests/web/test_sign_in.py`` checks the files still match the record and carry no GOV.UK typeface.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOVUK = ("govuk-frontend", "6.6.0", ROOT / "dfg" / "web" / "static" / "govuk")
AXE = ("axe-core", "4.14.1", ROOT / "tests" / "web" / "vendor")
FONT = "Atkinson Hyperlegible"

_FONT_FACE = re.compile(r"@font-face\{font-family:GDS Transport;[^}]*\}")
_CREST = re.compile(r"url\(/assets/images/govuk-crest\.svg\)")
_FONT_NOTICE = re.compile(r"/\*! Copyright \(c\) 2011 by Margaret Calvert & Henrik Kubel\.[^*]*\*/")
_SOURCE_MAP = re.compile(r"/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S*")


def _pack(name: str, version: str, work: Path) -> tarfile.TarFile:
    found = subprocess.run(
        ["npm", "view", f"{name}@{version}", "dist.integrity"], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--silent"], cwd=work, check=True, capture_output=True
    )
    tarball = work / f"{name}-{version}.tgz"
    algorithm, _, expected = found.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{tarball.name}: integrity {actual} is not the registry's {expected}")
    return tarfile.open(tarball)


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    handle = archive.extractfile(f"package/{path}")
    if handle is None:
        raise SystemExit(f"{path} is missing from the package")
    return handle.read()


def unbranded(css: str) -> str:
    """GOV.UK Frontend's CSS without the GOV.UK typeface and crest."""
    css, faces = _FONT_FACE.subn("", css)
    if faces != 2:
        raise SystemExit(f"expected two GDS Transport font faces, found {faces}: check the new version")
    css = css.replace("font-family:GDS Transport,", f'font-family:"{FONT}",')
    css = css.replace("font-family:GDS Transport", f'font-family:"{FONT}"')
    css = _CREST.sub("none", css)
    css = _FONT_NOTICE.sub("", css)  # the typeface's notice goes with the typeface
    css = _SOURCE_MAP.sub("", css)  # the maps are not vendored
    if "GDS Transport" in css:
        raise SystemExit("GDS Transport is still named in the CSS: check the new version")
    return css


def _write(out: Path, files: dict[str, bytes], name: str, version: str, note: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# {note}", "# Made by tools/vendor_frontend.py: do not edit by hand.", ""]
    lines += [f'package = "{name}"', f'version = "{version}"', "", "[sha256]"]
    for file, content in sorted(files.items()):
        (out / file).write_bytes(content)
        lines.append(f'"{file}" = "{hashlib.sha256(content).hexdigest()}"')
        print(f"{out.relative_to(ROOT) / file}: {len(content):,} bytes")
    (out / "VENDORED.toml").write_text("\n".join(lines) + "\n")


def main() -> int:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        name, version, out = GOVUK
        with _pack(name, version, work) as archive:
            css = unbranded(_member(archive, "dist/govuk/govuk-frontend.min.css").decode())
            js = _SOURCE_MAP.sub("", _member(archive, "dist/govuk/govuk-frontend.min.js").decode()).encode()
            licence = json.loads(_member(archive, "package.json"))["license"]
        if licence != "MIT":
            raise SystemExit(f"{name} {version} is licensed {licence}, not MIT: check before vendoring")
        _write(
            out,
            {"govuk-frontend.min.css": css.encode(), "govuk-frontend.min.js": js},
            name,
            version,
            "GOV.UK Frontend's compiled CSS (unbranded: no GDS Transport, no crest) and JS (MIT licence).",
        )
        name, version, out = AXE
        with _pack(name, version, work) as archive:
            axe = _member(archive, "axe.min.js")
            licence = _member(archive, "LICENSE")
            package = json.loads(_member(archive, "package.json"))
        if package["version"] != version:
            raise SystemExit(f"axe-core packed as {package['version']}, not {version}")
        _write(
            out,
            {"axe.min.js": axe, "LICENSE": licence},
            name,
            version,
            "axe-core, injected into pages by the browser tests to check WCAG rules (MPL-2.0 licence).",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
