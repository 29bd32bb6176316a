/* Loads of a method's arguments and return value, from its decoded
 * signature (include/ilheap/sig.h): the instructions that push one, as it
 * is, its value behind a byref, or boxed to object; the stack effect of a
 * call from the callee's signature; locals of a given type. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "os/memory.h"
#include "ilheap/rewrite.h"
#include "ilheap/sig.h"
#include "status_internal.h"

static void emit(ilheap_rw_insn_t *out, size_t *n, uint16_t op, int64_t operand)
{
    memset(&out[*n], 0, sizeof out[*n]);
    out[*n].opcode = op;
    out[*n].offset = ILHEAP_RW_NEW;
    out[*n].op.i = operand;
    ++*n;
}

static void emit_token(ilheap_rw_insn_t *out, size_t *n, uint16_t op, uint32_t token)
{
    emit(out, n, op, 0);
    out[*n - 1].op.token = token;
}

/* ldarg / ldloc in the shortest form (base: ldarg.0 or ldloc.0). */
static void emit_slot(ilheap_rw_insn_t *out, size_t *n, int local, uint32_t index)
{
    if (index < 4)
        emit(out, n, (uint16_t)((local ? ILHEAP_OP_LDLOC_0 : ILHEAP_OP_LDARG_0) + index), 0);
    else if (index < 256)
        emit(out, n, local ? ILHEAP_OP_LDLOC_S : ILHEAP_OP_LDARG_S, index);
    else
        emit(out, n, local ? ILHEAP_OP_LDLOC : ILHEAP_OP_LDARG, index);
}

/* After the slot's load (the value, or a byref to it): the value (flags
 * LOAD_VALUE) or the object (LOAD_BOX) the flags ask for. A by-ref-like
 * value or a TypedReference cannot be boxed: the load becomes ldnull. */
static ilheap_status_t convert(const ilheap_rw_method_t *m, const ilheap_sig_param_t *p, uint32_t flags,
                               ilheap_rw_insn_t *out, size_t *n)
{
    int box = (flags & ILHEAP_RW_LOAD_BOX) != 0, deref = p->byref && (box || (flags & ILHEAP_RW_LOAD_VALUE));
    if (!box && !deref)
        return ILHEAP_OK;
    if (p->kind == ILHEAP_SIG_VALUE_UNKNOWN || p->kind == ILHEAP_SIG_VALUE_VOID)
        return ilheap__fail(ILHEAP_IL_BAD_SIG, "a %s value cannot be loaded",
                            p->kind == ILHEAP_SIG_VALUE_VOID ? "void" : "runtime-internal");
    uint32_t token = 0;
    int by_ref_like = p->kind == ILHEAP_SIG_VALUE_TYPEDBYREF;
    if (p->kind != ILHEAP_SIG_VALUE_REFERENCE && !by_ref_like) {
        if (m->type_fn == NULL)
            return ilheap__fail(ILHEAP_EINVAL, "a value type to %s needs the type callback", box ? "box" : "load");
        ilheap_status_t st = m->type_fn(m->ctx, p, &token, &by_ref_like);
        if (st != ILHEAP_OK)
            return st;
    }
    if (by_ref_like && box) { /* never boxed: null instead of the value */
        *n = 0;
        emit(out, n, ILHEAP_OP_LDNULL, 0);
        return ILHEAP_OK;
    }
    if (deref && p->kind == ILHEAP_SIG_VALUE_REFERENCE)
        emit(out, n, ILHEAP_OP_LDIND_REF, 0);
    else if (deref)
        emit_token(out, n, ILHEAP_OP_LDOBJ, token);
    if (box && p->kind != ILHEAP_SIG_VALUE_REFERENCE)
        emit_token(out, n, ILHEAP_OP_BOX, token);
    return ILHEAP_OK;
}

static ilheap_status_t check_method(const ilheap_rw_method_t *m, ilheap_rw_insn_t *out, size_t *count)
{
    if (count != NULL)
        *count = 0;
    if (m == NULL || m->sig == NULL || out == NULL || count == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    if (m->sig->kind != ILHEAP_SIG_METHOD_DEF && m->sig->kind != ILHEAP_SIG_METHOD_REF)
        return ilheap__fail(ILHEAP_EINVAL, "not a method signature (kind %d)", (int)m->sig->kind);
    return ILHEAP_OK;
}

uint32_t ilheap_rw_arg_count(const ilheap_sig_t *sig)
{
    if (sig == NULL)
        return 0;
    int implicit_this = (sig->header & ILHEAP_SIG_HASTHIS) && !(sig->header & ILHEAP_SIG_EXPLICITTHIS);
    return sig->count + (implicit_this ? 1u : 0u);
}

ilheap_status_t ilheap_rw_load_arg(const ilheap_rw_method_t *m, uint32_t arg, uint32_t flags,
                                   ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX], size_t *count)
{
    ilheap_status_t st = check_method(m, out, count);
    if (st != ILHEAP_OK)
        return st;
    uint32_t n = ilheap_rw_arg_count(m->sig);
    if (arg >= n)
        return ilheap__fail(ILHEAP_EINVAL, "argument %u of %u", arg, n);
    int implicit_this = n > m->sig->count;
    ilheap_sig_param_t self;
    const ilheap_sig_param_t *p = implicit_this && arg == 0 ? &self : &m->sig->params[arg - (uint32_t)implicit_this];
    if (p == &self) { /* `this`: an object reference, or a byref to the value type this_type */
        memset(&self, 0, sizeof self);
        self.kind = m->this_type ? ILHEAP_SIG_VALUE_VALUETYPE : ILHEAP_SIG_VALUE_REFERENCE;
        self.element = m->this_type ? ILHEAP_ET_VALUETYPE : ILHEAP_ET_CLASS;
        self.byref = m->this_type != 0;
        self.token = m->this_type;
    }
    emit_slot(out, count, 0, arg);
    return convert(m, p, flags, out, count);
}

ilheap_status_t ilheap_rw_load_return(const ilheap_rw_method_t *m, uint32_t ret_local, uint32_t flags,
                                      ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX], size_t *count)
{
    ilheap_status_t st = check_method(m, out, count);
    if (st != ILHEAP_OK)
        return st;
    if (m->sig->ret.kind == ILHEAP_SIG_VALUE_VOID && !m->sig->ret.byref) {
        if (flags & ILHEAP_RW_LOAD_BOX)
            emit(out, count, ILHEAP_OP_LDNULL, 0); /* no value: null as its object */
        return ILHEAP_OK;
    }
    if (ret_local > 0xFFFEu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "local %u (ldloc takes 0 to 65534)", ret_local);
    emit_slot(out, count, 1, ret_local);
    return convert(m, &m->sig->ret, flags, out, count);
}

ilheap_status_t ilheap_rw_call_effect(const ilheap_sig_t *callee, uint16_t opcode, uint32_t *pops, uint32_t *pushes)
{
    if (callee == NULL || pops == NULL || pushes == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    if (callee->kind != ILHEAP_SIG_METHOD_DEF && callee->kind != ILHEAP_SIG_METHOD_REF)
        return ilheap__fail(ILHEAP_EINVAL, "not a method signature (kind %d)", (int)callee->kind);
    uint32_t args = ilheap_rw_arg_count(callee);
    if (opcode == ILHEAP_OP_NEWOBJ) {
        *pops = callee->count; /* the new object is not on the stack before */
        *pushes = 1;
        return ILHEAP_OK;
    }
    if (opcode != ILHEAP_OP_CALL && opcode != ILHEAP_OP_CALLVIRT && opcode != ILHEAP_OP_CALLI)
        return ilheap__fail(ILHEAP_EINVAL, "opcode 0x%X is not a call", (unsigned)opcode);
    *pops = args + (opcode == ILHEAP_OP_CALLI ? 1u : 0u); /* calli: the function pointer too */
    *pushes = callee->ret.kind == ILHEAP_SIG_VALUE_VOID && !callee->ret.byref ? 0u : 1u;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_locals_append_type(const uint8_t *sig, size_t size, const ilheap_sig_type_t *type,
                                             uint8_t **out, size_t *out_size, uint32_t *index)
{
    if (out != NULL)
        *out = NULL;
    if (type == NULL || out == NULL || out_size == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    uint8_t small[256], *bytes = small; /* most types fit: no sizing pass */
    size_t need = 0;
    ilheap_status_t st = ilheap_sig_encode_type(type, small, sizeof small, &need, NULL);
    if (st == ILHEAP_SIG_NO_ROOM) {
        if ((bytes = ilheap__mem_alloc(need, 1)) == NULL)
            return ilheap__fail(ILHEAP_ENOMEM, "%zu bytes of type", need);
        st = ilheap_sig_encode_type(type, bytes, need, &need, NULL);
    }
    if (st == ILHEAP_OK)
        st = ilheap_rw_locals_append(sig, size, bytes, need, 1, out, out_size, index);
    if (bytes != small)
        ilheap__mem_free(bytes);
    return st;
}
