/*
 * walk_vs_c_ratio: the walks of tools/bench/walk.ts (walkX86Fs, 4-level x86
 * first stage, read access, user mode) in C over the same tables and
 * addresses, built by the bench with the machine's cc -O2.
 *
 * Input file (little-endian u32): nwords, root, naddr; nwords words of table
 * memory; naddr (hi, lo) IOVA pairs. Prints "walks_per_s X sum S", S being
 * the sum of one round's output addresses (checked against the TS walks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t *mem;

static inline uint64_t read64(uint64_t pa) { return (uint64_t)mem[pa >> 2] | ((uint64_t)mem[(pa >> 2) + 1] << 32); }

/* Same checks as walkX86Fs for a user-mode read, oaBits 52, FS1GP on. Returns 0 and *pa, or a fault. */
static int walk(uint64_t root, uint64_t iova, uint64_t *pa) {
    int64_t top = (int64_t)iova >> 47;
    if (top != 0 && top != -1) return 5;
    uint64_t table = root;
    for (int level = 4; level >= 1; level--) {
        int shift = 12 + 9 * (level - 1);
        uint64_t e = read64(table + ((iova >> shift) & 511) * 8);
        if (!(e & 1)) return 1;
        if (!(e & 4)) return 6;
        int lg2 = 0;
        if (level == 1) lg2 = 12;
        else if (e & 0x80) {
            if (level == 2) { if (e & 0x1fe000) return 3; lg2 = 21; }
            else if (level == 3) { if (e & 0x3fffe000) return 3; lg2 = 30; }
            else return 3;
        }
        uint64_t addr = e & 0x000ffffffffff000ull;
        if (lg2) {
            uint64_t m = (1ull << lg2) - 1;
            *pa = (addr & ~m) | (iova & m);
            return 0;
        }
        table = addr;
    }
    return 3;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    uint32_t hdr[3];
    if (fread(hdr, 4, 3, f) != 3) return 2;
    uint32_t nwords = hdr[0], root = hdr[1], n = hdr[2];
    mem = malloc((size_t)nwords * 4 + 8);
    uint32_t *pairs = malloc((size_t)n * 8);
    if (fread(mem, 4, nwords, f) != nwords || fread(pairs, 8, n, f) != n) return 2;
    fclose(f);
    uint64_t *iova = malloc((size_t)n * 8);
    for (uint32_t i = 0; i < n; i++) iova[i] = ((uint64_t)pairs[2 * i] << 32) | pairs[2 * i + 1];

    uint64_t sum = 0, pa = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (walk(root, iova[i], &pa)) { fprintf(stderr, "walk faulted\n"); return 1; }
        sum += pa;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t walks = 0, acc = 0;
    double el;
    do {
        for (uint32_t i = 0; i < n; i++) {
            walk(root, iova[i], &pa);
            acc += pa;
        }
        walks += n;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    } while (el < 0.7);
    printf("walks_per_s %.0f sum %llu acc %llu\n", walks / el, (unsigned long long)sum, (unsigned long long)acc);
    return 0;
}
