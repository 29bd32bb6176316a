/* Each thread's rewriter, instrumenter and decode buffers, kept from one
 * method to the next (the rewriter's steady state does not allocate), and
 * the one way a method's IL is decoded into the rewriter. */
#include "profiler.h"

#include <stdlib.h>

#include "os.h"

static prof_os_tls_t scratch_key;
static int scratch_key_ok;
static prof_os_once_t scratch_once = PROF_OS_ONCE_INIT;

static void scratch_free(void *p)
{
    prof_scratch_t *s = p;
    if (!s)
        return;
    ilheap_rw_destroy(s->rw);
    ilheap_instr_destroy(s->instr);
    free(s->clauses);
    free(s->arena);
    free(s->map);
    free(s);
}

static void scratch_key_make(void)
{
    scratch_key_ok = prof_os_tls_create(&scratch_key, scratch_free) == 0;
}

prof_scratch_t *prof_scratch_get(void)
{
    prof_os_once(&scratch_once, scratch_key_make);
    if (!scratch_key_ok)
        return NULL;
    prof_scratch_t *s = prof_os_tls_get(scratch_key);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s || ilheap_rw_create(&s->rw) != ILHEAP_OK || ilheap_instr_create(&s->instr) != ILHEAP_OK ||
        prof_os_tls_set(scratch_key, s) != 0) {
        scratch_free(s);
        return NULL;
    }
    return s;
}

int prof_scratch_load(prof_scratch_t *s, const uint8_t *il, size_t il_size, ilheap_il_body_t *body)
{
    ilheap_status_t st = ilheap_il_decode(il, il_size, body, s->clauses, s->clauses_cap);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        ilheap_il_clause_t *c = realloc(s->clauses, body->clause_count * sizeof *c);
        if (!c)
            return -1;
        s->clauses = c;
        s->clauses_cap = body->clause_count;
        st = ilheap_il_decode(il, il_size, body, s->clauses, s->clauses_cap);
    }
    size_t bad = 0;
    return st == ILHEAP_OK && ilheap_rw_load(s->rw, body, &bad) == ILHEAP_OK ? 0 : -1;
}

void *prof_scratch_arena(prof_scratch_t *s, size_t size)
{
    if (size > s->arena_cap) {
        void *p = realloc(s->arena, size);
        if (!p)
            return NULL;
        s->arena = p;
        s->arena_cap = size;
    }
    return s->arena;
}
