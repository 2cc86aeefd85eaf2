"""Drop the section header table from a static ELF executable.

The kernel loads an executable through its program headers (segments)
alone; section headers exist for linkers, debuggers and tools such as
`readelf -S`. After `strip`, what is left of them in the bootstrap is the
table itself (64 bytes a section), the `.shstrtab` names and any
non-allocated section the linker kept after the last segment: about 1 KiB
that the platform never reads.

`strip_sections` rewrites the ELF header to say "no section headers"
(e_shoff = e_shnum = e_shstrndx = 0) and cuts the file where the last
segment's bytes end. It refuses (returns a reason) rather than guess when the
file is not a 64-bit little-endian executable, when a segment's bytes lie
past the section table (so cutting would lose them), or when nothing would be
saved. Used by scripts/package; `python3 scripts/elfstrip.py IN OUT` runs it
alone.
"""

import struct
import sys

ET_EXEC = 2
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
PHDR = struct.Struct("<IIQQQQQQ")          # Elf64_Phdr


def strip_sections(data):
    """Returns (stripped bytes, None) or (None, reason)."""
    if len(data) < EHDR.size or data[:4] != b"\x7fELF":
        return None, "not an ELF file"
    if data[4] != 2 or data[5] != 1:
        return None, "not a 64-bit little-endian ELF file"
    (ident, e_type, machine, version, entry, phoff, shoff, flags, ehsize,
     phentsize, phnum, shentsize, shnum, shstrndx) = EHDR.unpack_from(data)
    if e_type != ET_EXEC:
        return None, "not a position-dependent executable (ET_EXEC)"
    if shoff == 0 and shnum == 0:
        return None, "it has no section headers already"
    if phentsize != PHDR.size or phoff + phnum * phentsize > len(data):
        return None, "its program header table is malformed"
    end = max(ehsize, phoff + phnum * phentsize)
    for i in range(phnum):
        p = PHDR.unpack_from(data, phoff + i * phentsize)
        offset, filesz = p[2], p[5]
        if offset + filesz > len(data):
            return None, "a segment extends past the end of the file"
        end = max(end, offset + filesz)
    if shoff and shoff < end:
        return None, "the section table lies inside the loaded segments"
    if end >= len(data):
        return None, "nothing lies after the last segment"
    header = EHDR.pack(ident, e_type, machine, version, entry, phoff, 0, flags,
                       ehsize, phentsize, phnum, shentsize, 0, 0)
    return header + data[EHDR.size:end], None


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: elfstrip.py IN OUT")
    with open(argv[1], "rb") as f:
        data = f.read()
    out, reason = strip_sections(data)
    if out is None:
        sys.exit(f"elfstrip: {argv[1]}: not stripped: {reason}")
    with open(argv[2], "wb") as f:
        f.write(out)
    print(f"{argv[2]}: {len(out)} bytes ({len(data) - len(out)} fewer)")


if __name__ == "__main__":
    main(sys.argv)
