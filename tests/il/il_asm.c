/* The test assembler of il_asm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_asm.h"
#include "ilheap/rewrite.h"

static void die(const char *what)
{
    fprintf(stderr, "il_asm: %s\n", what);
    abort();
}

static void put(il_asm_t *a, uint8_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->code = realloc(a->code, a->cap);
        if (a->code == NULL)
            die("out of memory");
    }
    a->code[a->n++] = x;
}

static void put_n(il_asm_t *a, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        put(a, (uint8_t)(v >> (8 * i)));
}

void il_asm_init(il_asm_t *a)
{
    memset(a, 0, sizeof *a);
}

void il_asm_free(il_asm_t *a)
{
    free(a->code);
    free(a->fix);
    free(a->bytes);
    memset(a, 0, sizeof *a);
}

int il_label(il_asm_t *a)
{
    if (a->labels == IL_ASM_MAX_LABELS)
        die("too many labels");
    a->label_at[a->labels] = -1;
    return a->labels++;
}

void il_mark(il_asm_t *a, int label)
{
    a->label_at[label] = (int64_t)a->n;
}

static const ilheap_il_opinfo_t *opcode(il_asm_t *a, uint16_t op)
{
    const ilheap_il_opinfo_t *in = ilheap_il_opinfo(op);
    if (in == NULL)
        die("unknown opcode");
    if (op > 0xFF)
        put(a, 0xFE);
    put(a, (uint8_t)op);
    return in;
}

void il_op(il_asm_t *a, uint16_t op)
{
    il_opi(a, op, 0);
}

void il_opi(il_asm_t *a, uint16_t op, int64_t operand)
{
    const ilheap_il_opinfo_t *in = opcode(a, op);
    size_t bytes = ilheap_il_operand_size((ilheap_il_operand_t)in->operand);
    if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32 ||
        in->operand == ILHEAP_OPND_SWITCH)
        die("branches take labels");
    put_n(a, (uint64_t)operand, bytes);
}

static void fixup(il_asm_t *a, int label, size_t base, int short_form)
{
    if (a->nfix == a->fix_cap) {
        a->fix_cap = a->fix_cap ? 2 * a->fix_cap : 64;
        a->fix = realloc(a->fix, a->fix_cap * sizeof *a->fix);
        if (a->fix == NULL)
            die("out of memory");
    }
    a->fix[a->nfix].at = a->n;
    a->fix[a->nfix].base = base;
    a->fix[a->nfix].label = label;
    a->fix[a->nfix++].short_form = short_form;
}

void il_br(il_asm_t *a, uint16_t op, int label)
{
    const ilheap_il_opinfo_t *in = opcode(a, op);
    int short_form = in->operand == ILHEAP_OPND_BRANCH8;
    if (!short_form && in->operand != ILHEAP_OPND_BRANCH32)
        die("not a branch");
    fixup(a, label, a->n + (short_form ? 1 : 4), short_form);
    put_n(a, 0, short_form ? 1 : 4);
}

void il_switch(il_asm_t *a, const int *labels, uint32_t count)
{
    opcode(a, ILHEAP_OP_SWITCH);
    put_n(a, count, 4);
    size_t base = a->n + 4 * (size_t)count;
    for (uint32_t k = 0; k < count; k++) {
        fixup(a, labels[k], base, 0);
        put_n(a, 0, 4);
    }
}

void il_clause(il_asm_t *a, uint32_t kind, int try_s, int try_e, int h_s, int h_e, int filter_s, uint32_t token)
{
    if (a->ncl == IL_ASM_MAX_CLAUSES)
        die("too many clauses");
    a->cl[a->ncl].kind = kind;
    a->cl[a->ncl].token = token;
    a->cl[a->ncl].try_s = try_s;
    a->cl[a->ncl].try_e = try_e;
    a->cl[a->ncl].h_s = h_s;
    a->cl[a->ncl].h_e = h_e;
    a->cl[a->ncl++].f_s = filter_s;
}

static uint32_t at(const il_asm_t *a, int label)
{
    if (label < 0 || label >= a->labels || a->label_at[label] < 0)
        die("label not marked");
    return (uint32_t)a->label_at[label];
}

void il_asm_body(il_asm_t *a, uint16_t max_stack, uint32_t local_sig, ilheap_il_body_t *b)
{
    for (size_t i = 0; i < a->nfix; i++) {
        int64_t d = (int64_t)at(a, a->fix[i].label) - (int64_t)a->fix[i].base;
        if (a->fix[i].short_form && (d < -128 || d > 127))
            die("short branch out of range");
        for (int k = 0; k < (a->fix[i].short_form ? 1 : 4); k++)
            a->code[a->fix[i].at + (size_t)k] = (uint8_t)((uint64_t)d >> (8 * k));
    }
    for (int i = 0; i < a->ncl; i++) {
        ilheap_il_clause_t *c = &a->clauses[i];
        c->kind = a->cl[i].kind;
        c->try_offset = at(a, a->cl[i].try_s);
        c->try_length = at(a, a->cl[i].try_e) - c->try_offset;
        c->handler_offset = at(a, a->cl[i].h_s);
        c->handler_length = at(a, a->cl[i].h_e) - c->handler_offset;
        c->filter_or_class = c->kind == ILHEAP_IL_FILTER ? at(a, a->cl[i].f_s) : a->cl[i].token;
    }
    ilheap_il_body_t src;
    memset(&src, 0, sizeof src);
    src.code = a->code;
    src.code_size = (uint32_t)a->n;
    src.clauses = a->clauses;
    src.clause_count = (uint32_t)a->ncl;
    src.max_stack = max_stack;
    src.local_sig = local_sig;
    size_t size;
    if (ilheap_il_encode(&src, ILHEAP_IL_COMPACT, NULL, 0, &size) != ILHEAP_OK)
        die("encode");
    free(a->bytes);
    a->bytes = malloc(size ? size : 1); /* malloc's alignment is at least 8 */
    if (a->bytes == NULL || ilheap_il_encode(&src, ILHEAP_IL_COMPACT, a->bytes, size, &size) != ILHEAP_OK)
        die("encode");
    a->size = size;
    if (ilheap_il_decode(a->bytes, size, b, a->decoded, IL_ASM_MAX_CLAUSES) != ILHEAP_OK)
        die("decode");
}
