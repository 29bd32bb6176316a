/* A small IL assembler for the rewriter's tests: instructions with labels,
 * clauses by labels, assembled into a decoded method body.
 *
 *   il_asm_t a; il_asm_init(&a);
 *   int done = il_label(&a);
 *   il_op(&a, ILHEAP_OP_NOP);
 *   il_br(&a, ILHEAP_OP_BR, done);      // always the 4-byte form for br/leave/...
 *   il_mark(&a, done);
 *   il_op(&a, ILHEAP_OP_RET);
 *   ilheap_il_body_t body; il_asm_body(&a, 8, &body);
 *
 * Branches are written long (br, leave, brtrue, ...: the 4-byte form) unless
 * given a short opcode. Everything aborts on misuse: tests only. */
#ifndef ILHEAP_TESTS_IL_ASM_H
#define ILHEAP_TESTS_IL_ASM_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/il.h"

#define IL_ASM_MAX_LABELS 4096
#define IL_ASM_MAX_CLAUSES 64

typedef struct il_asm {
    uint8_t *code;
    size_t n, cap;
    int64_t label_at[IL_ASM_MAX_LABELS]; /* offset, -1 until marked */
    int labels;
    struct {
        size_t at, base; /* where the 4-byte (or 1-byte) displacement goes, and its base */
        int label, short_form;
    } * fix;
    size_t nfix, fix_cap;
    struct {
        uint32_t kind, token;
        int try_s, try_e, h_s, h_e, f_s;
    } cl[IL_ASM_MAX_CLAUSES];
    int ncl;
    uint8_t *bytes; /* the encoded body */
    size_t size;
    ilheap_il_clause_t clauses[IL_ASM_MAX_CLAUSES], decoded[IL_ASM_MAX_CLAUSES];
} il_asm_t;

void il_asm_init(il_asm_t *a);
void il_asm_free(il_asm_t *a);
int il_label(il_asm_t *a);
void il_mark(il_asm_t *a, int label);
/* An instruction without operand, with an integer or token operand (its size
 * from the opcode table), a branch to a label, a switch to labels. */
void il_op(il_asm_t *a, uint16_t op);
void il_opi(il_asm_t *a, uint16_t op, int64_t operand);
void il_br(il_asm_t *a, uint16_t op, int label);
void il_switch(il_asm_t *a, const int *labels, uint32_t count);
/* A clause by labels (filter_start: -1 unless FILTER). */
void il_clause(il_asm_t *a, uint32_t kind, int try_s, int try_e, int h_s, int h_e, int filter_s, uint32_t token);
/* Encodes (fat when locals, else compact) and decodes the body into *b,
 * whose code and clauses live in a until il_asm_free. */
void il_asm_body(il_asm_t *a, uint16_t max_stack, uint32_t local_sig, ilheap_il_body_t *b);

#endif
