/* vernaux-weak: mark one symbol-version requirement of an ELF64 shared library as weak.
 *
 * Usage: vernaux-weak FILE VERSION        (e.g. libLibTorchSharp.so GLIBCXX_3.4.32)
 *
 * Walks .gnu.version_r (SHT_GNU_verneed) and sets VER_FLG_WEAK (0x2) on every Vernaux
 * entry whose name is VERSION. The dynamic loader then treats a missing VERSION as a
 * warning instead of refusing to load the library. See README "TorchSharp on Debian 12".
 * Exit codes: 0 patched (or already weak), 1 version not found, 2 bad input.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s FILE VERSION\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 2; }
    fclose(f);

    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    if (size < (long)sizeof(Elf64_Ehdr) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
        fprintf(stderr, "%s: not an ELF64 file\n", argv[1]); return 2;
    }
    if (eh->e_shoff + (Elf64_Off)eh->e_shnum * sizeof(Elf64_Shdr) > (Elf64_Off)size) { fprintf(stderr, "bad section table\n"); return 2; }
    Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
    int found = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_GNU_verneed) continue;
        const char *strtab = (const char *)(buf + sh[sh[i].sh_link].sh_offset);
        Elf64_Off off = sh[i].sh_offset;
        for (;;) {
            Elf64_Verneed *vn = (Elf64_Verneed *)(buf + off);
            Elf64_Off aoff = off + vn->vn_aux;
            for (int j = 0; j < vn->vn_cnt; j++) {
                Elf64_Vernaux *va = (Elf64_Vernaux *)(buf + aoff);
                if (strcmp(strtab + va->vna_name, argv[2]) == 0) { va->vna_flags |= VER_FLG_WEAK; found = 1; }
                if (va->vna_next == 0) break;
                aoff += va->vna_next;
            }
            if (vn->vn_next == 0) break;
            off += vn->vn_next;
        }
    }
    if (!found) { fprintf(stderr, "%s: no requirement on %s\n", argv[1], argv[2]); return 1; }
    f = fopen(argv[1], "r+b");
    if (!f || fwrite(buf, 1, (size_t)size, f) != (size_t)size || fclose(f) != 0) { perror(argv[1]); return 2; }
    return 0;
}
