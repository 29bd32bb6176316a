/* What the signature decoder (sig_decode.c) and encoder (sig_encode.c)
 * share, so that the encoder writes exactly what the decoder accepts: the
 * rules for the first byte of each kind and for where VOID and PINNED may
 * stand, and the error report. Internal; the public view is
 * include/ilheap/sig.h.
 */
#ifndef ILHEAP_PE_SIG_INTERNAL_H
#define ILHEAP_PE_SIG_INTERNAL_H

#include "ilheap/sig.h"
#include "status_internal.h" /* ILHEAP_PRINTF_LIKE */

/* Where a type stands, for the placement rules: VOID only as a return type
 * or a pointer's target, PINNED only on a local. */
#define SIG_VOID_OK 0x1u
#define SIG_PINNED_OK 0x2u

/* The largest blob a compressed length can describe: no encoding grows past it
 * (a cyclic tree built by hand stops there). */
#define SIG_MAX_BLOB 0x1FFFFFFFu

/* Records a failure in *error (may be NULL) and as the thread's last
 * message: "<detail> at signature byte N"; returns status. */
ILHEAP_PRINTF_LIKE(4, 5)
ilheap_status_t ilheap__sig_fail(ilheap_sig_error_t *error, ilheap_status_t status, size_t offset,
                                 const char *format, ...);

/* A primitive element's C# keyword ("int"), or NULL where it has none;
 * ilheap_sig_element_name gives its System type name ("Int32"). */
const char *ilheap__sig_csharp_name(uint8_t element);

/* Is `header` a valid first byte for `kind` (not ANY, not TYPESPEC)? */
bool ilheap__sig_header_ok(ilheap_sig_kind_t kind, uint8_t header);

/* The kind a first byte announces (ILHEAP_SIG_ANY's choice). */
ilheap_sig_kind_t ilheap__sig_kind_of(uint8_t header);

/* Is e an element with nothing after it (a primitive, STRING, OBJECT,
 * TYPEDBYREF, VOID)? */
bool ilheap__sig_is_simple(uint8_t e);

#endif
