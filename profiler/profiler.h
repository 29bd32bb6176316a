/* ilheap's CoreCLR profiler: what its parts share.
 *
 *   class_factory.c  DllGetClassObject and IClassFactory: how the runtime gets in
 *   callback.c       the ICorProfilerCallback11 object (98 slots), event dispatch
 *   config.c         ILHEAP_* environment variables
 *   modules.c        ModuleID -> base, image size, allocator, rewritten tokens
 *   image.c          what the image at a module base says (PE header, mapping)
 *   names.c          method names and attributes through IMetaDataImport
 *   emit.c           tokens the probes call (Interlocked, Stopwatch) and new
 *                    local signatures, through IMetaDataEmit
 *   signatures.c     method signatures from metadata: a call's stack effect,
 *                    constructors, return types
 *   rewrite.c        JITCompilationStarted: read, rewrite, allocate, install
 *   rejit.c          ILHEAP_REJIT=1: RequestReJIT from a thread of our own,
 *                    GetReJITParameters, the modules' ReJIT states
 *   install.c        Alloc from the module's allocator, SetILFunctionBody
 *   scratch.c        each thread's rewriter and decode buffers
 *   instrument.c     calls and blocks: probes through the IL rewriter
 *   timing.c         timing: each method wrapped, entries, exits by an
 *                    exception and time into the counts file
 *   counts.c         the counts file (ILHEAP_COUNTS): its module and method records
 *   report.c         counters and the report written at Shutdown
 *   os.h             what differs by OS (locks, thread storage, time, process,
 *                    environment, files): os_linux.c, os_windows.c
 *
 * Calls go one way: callback -> rewrite -> instrument -> modules -> counts,
 * names, emit, image; report -> modules; rewrite -> report (counters).
 * modules never calls report.
 *
 * Rule for every callback: nothing that fails may bring the host down. A
 * failure leaves the method as the runtime had it, is counted under a reason,
 * and the callback returns S_OK.
 */
#ifndef ILHEAP_PROFILER_H
#define ILHEAP_PROFILER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clr_abi.h"
#include "ilheap/instrument.h"
#include "ilheap/rewrite.h"
#include "ilheap/sig.h"
#include "os.h"
#include "support.h"

/* {D643D291-34DE-476E-974D-062912349822}: the CORECLR_PROFILER value. */
extern const GUID prof_CLSID_profiler;

/* The profiler's one export: the runtime's way in (class_factory.c). */
PROF_EXPORT HRESULT CLR_CALL DllGetClassObject(const GUID *rclsid, const GUID *riid, void **ppv);

static inline int prof_guid_eq(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}

/* ------------------------------------------------------------------ config */
/* CoreLib methods the probes call (emit.c emits each once per module). */
typedef enum prof_ref {
    PROF_REF_INCREMENT, /* Interlocked.Increment(int64&) */
    PROF_REF_ADD,       /* Interlocked.Add(int64&, int64) */
    PROF_REF_TIMESTAMP, /* Stopwatch.GetTimestamp() */
    PROF_REF_COUNT
} prof_ref_t;

typedef enum prof_mode {
    PROF_MODE_OFF,      /* observe and count only */
    PROF_MODE_REHOME,   /* the same body, moved into the module's allocator */
    PROF_MODE_PROLOGUE, /* N nop bytes inserted at the start, EH shifted */
    PROF_MODE_CALLS,    /* a counter probe at each method's entry */
    PROF_MODE_BLOCKS,   /* a counter probe at each basic block's start */
    PROF_MODE_TIMING,   /* each method wrapped: entries, exits by an exception, time */
} prof_mode_t;

/* 1 for the modes that count into the counts file (calls, blocks, timing). */
static inline int prof_mode_counts(prof_mode_t mode)
{
    return mode == PROF_MODE_CALLS || mode == PROF_MODE_BLOCKS || mode == PROF_MODE_TIMING;
}

typedef enum prof_allocator {
    PROF_ALLOC_ILHEAP, /* ilheap's per-module heap (the registry) */
    PROF_ALLOC_CLR,    /* the runtime's own GetILFunctionBodyAllocator */
} prof_allocator_t;

#define PROF_NAME_MAX 512
#define PROF_PATTERNS_MAX 64
#define PROF_PATTERN_LEN 128

/* ILHEAP_INCLUDE / ILHEAP_EXCLUDE: assembly-name patterns, `*` a wildcard. */
typedef struct prof_patterns {
    unsigned n;
    char p[PROF_PATTERNS_MAX][PROF_PATTERN_LEN];
} prof_patterns_t;

typedef struct prof_config {
    prof_mode_t mode;
    unsigned prologue_nops;     /* PROF_MODE_PROLOGUE: 1..PROF_MAX_PROLOGUE */
    prof_allocator_t allocator;
    int disable_r2r;            /* ILHEAP_DISABLE_R2R=1: JIT ReadyToRun code too */
    int rejit;                  /* ILHEAP_REJIT=1: rewrite through ReJIT (not in mode off) */
    int has_replace;            /* ILHEAP_REPLACE=Ns.Type::Method=VALUE */
    char replace_type[PROF_NAME_MAX];
    char replace_method[PROF_NAME_MAX];
    int32_t replace_value;
    uint64_t window;            /* window checked for violations (ILHEAP_WINDOW) */
    int atomic;                 /* ILHEAP_ATOMIC=1: Interlocked.Increment probes */
    int inline_instrumented;    /* ILHEAP_INLINE (default 1): an instrumented callee whose body is in place may be inlined */
    int edges;                  /* ILHEAP_EDGES (blocks, default 1): edge probes where blocks cannot tell */
    int fallback;               /* ILHEAP_FALLBACK=clr: a full window falls back to the runtime's allocator */
    prof_patterns_t include;    /* empty: every assembly */
    prof_patterns_t exclude;
    char counts_path[4096];     /* ILHEAP_COUNTS, %p expanded */
    int counts_shared;          /* ILHEAP_COUNTS has no %p: not unique to this process */
    char report_path[4096];     /* ILHEAP_REPORT; empty = stderr */
    char module_log_path[4096]; /* ILHEAP_MODULE_LOG: one line per module load */
    char error[256];            /* why the environment was rejected; empty if fine */
} prof_config_t;

#define PROF_MAX_PROLOGUE 4096u

/* Reads ILHEAP_* from the environment. On a bad value fills cfg->error, sets
 * the mode to PROF_MODE_OFF (observe only) and returns -1; 0 otherwise. */
int prof_config_load(prof_config_t *cfg);
/* 1 when the assembly named name (file name without extension) is in the
 * scope of ILHEAP_INCLUDE / ILHEAP_EXCLUDE. */
int prof_config_in_scope(const prof_config_t *cfg, const char *name);
/* Copies an output path, "%p" expanded to the process id; -1 if too long. */
int prof_expand_path(char *dst, size_t cap, const char *src);
/* A diagnostic: into the report when ILHEAP_REPORT is set (the profiler then
 * never writes to stdout or stderr), else one line on stderr. */
SUPPORT_PRINTF_LIKE(1, 2)
void prof_diag(const char *fmt, ...);

/* -------------------------------------------------------------- counters */
/* Why a method was left as it was. */
#define PROF_SKIP_LIST(X)                                                        \
    X(function_info, "GetFunctionInfo failed")                                  \
    X(unknown_module, "module not registered and GetModuleInfo2 failed")        \
    X(dynamic_module, "dynamic or resource module (no base address)")          \
    X(already_rewritten, "body already installed (re-JIT, tier-up, generics)")  \
    X(not_il, "GetILFunctionBody failed (no IL: abstract, P/Invoke, runtime)")  \
    X(decode, "the codec rejected the body")                                    \
    X(verify, "the new body did not read back as the planned rewrite")         \
    X(encode, "the rewritten body could not be encoded")                        \
    X(no_allocator, "the module's allocator could not be obtained")             \
    X(alloc_failed, "IMethodMalloc::Alloc returned NULL")                       \
    X(set_failed, "SetILFunctionBody failed")                                   \
    X(mode_off, "ILHEAP_MODE=off")                                              \
    X(out_of_scope, "the assembly is outside ILHEAP_INCLUDE / ILHEAP_EXCLUDE")  \
    X(intrinsic, "CoreLib's Interlocked or an [Intrinsic] method: left alone")  \
    X(metadata, "the method's metadata or name could not be read")             \
    X(rewriter_load, "the IL rewriter rejected the body")                        \
    X(rewriter_edit, "the IL rewriter could not insert the probes")             \
    X(rewriter_encode, "the IL rewriter could not encode the new body")         \
    X(interlocked_ref, "no Interlocked.Increment reference could be emitted")   \
    X(counters, "no memory for the method's counters")                         \
    X(wrap, "timing: the wrapper refused the body (tail. call, jmp, a base constructor call not found)")

typedef enum prof_skip {
#define PROF_SKIP_ENUM(name, text) PROF_SKIP_##name,
    PROF_SKIP_LIST(PROF_SKIP_ENUM)
#undef PROF_SKIP_ENUM
    PROF_SKIP_COUNT
} prof_skip_t;

/* Time per Alloc: 4 buckets per power of two (about 19% wide). */
#define PROF_HIST_BUCKETS 160

typedef struct prof_counters {
    atomic_uint_fast64_t jit_started;    /* JITCompilationStarted calls */
    atomic_uint_fast64_t rewritten;      /* bodies installed */
    atomic_uint_fast64_t replaced;       /* of which ILHEAP_REPLACE targets */
    atomic_uint_fast64_t rehomed_identical; /* rehome: new body byte-identical */
    /* What the rewritten bodies held (proof that every form went through). */
    atomic_uint_fast64_t bodies_tiny, bodies_fat, grew_tiny_to_fat;
    atomic_uint_fast64_t clauses[4]; /* catch, filter, finally, fault */
    atomic_uint_fast64_t skipped[PROF_SKIP_COUNT];
    atomic_uint_fast64_t bytes_allocated;
    atomic_uint_fast64_t allocations;
    atomic_uint_fast64_t alloc_ns;       /* total time inside Alloc */
    atomic_uint_fast64_t alloc_hist[PROF_HIST_BUCKETS];   /* all but each module's first */
    atomic_uint_fast64_t first_allocs;   /* each module's first Alloc: heap placement */
    atomic_uint_fast64_t first_alloc_ns;
    atomic_uint_fast64_t modules_served;  /* unloaded modules with >= 1 body placed */
    atomic_uint_fast64_t modules_failing; /* unloaded modules with >= 1 Alloc NULL */
    atomic_uint_fast64_t window_checked;
    atomic_uint_fast64_t window_violations;
    atomic_uint_fast64_t below_base;     /* of which p <= base */
    atomic_uint_fast64_t beyond_2gib;    /* bodies ending past base + 0x7FFFFFFF */
    atomic_int_fast64_t min_offset;      /* lowest p - base seen (signed) */
    atomic_int_fast64_t max_end_offset;  /* highest p + size - base seen */
    atomic_uint_fast64_t modules_loaded;
    atomic_uint_fast64_t modules_unloaded;
    atomic_uint_fast64_t modules_flat;
    atomic_uint_fast64_t modules_collectible;
    atomic_uint_fast64_t collectible_unloaded;
    atomic_uint_fast64_t heaps_created;  /* modules given an ilheap allocator */
    atomic_uint_fast64_t heaps_released; /* ilheap_ModuleUnloaded returned S_OK */
    atomic_uint_fast64_t live_heaps;
    atomic_uint_fast64_t live_heaps_peak;
    atomic_uint_fast64_t live_heaps_collectible;
    atomic_uint_fast64_t instrumented;     /* methods given probes (calls, blocks) */
    atomic_uint_fast64_t probes;           /* counters placed in them */
    atomic_uint_fast64_t counts_written;   /* methods in the counts file (published, not withdrawn) */
    atomic_uint_fast64_t counts_lost;      /* methods left uncounted: no room in the counts file */
    atomic_uint_fast64_t counter_bytes_live; /* counter regions and their tables */
    atomic_uint_fast64_t counter_bytes_peak;
    atomic_uint_fast64_t counter_regions_live;
    atomic_uint_fast64_t inlining_allowed;   /* JITInlining: callee's instrumented body in place */
    atomic_uint_fast64_t inlining_refused;   /* JITInlining: callee instrumented, body maybe not */
    atomic_uint_fast64_t bodies_fallback;    /* placed by the runtime's allocator (ILHEAP_FALLBACK) */
    atomic_uint_fast64_t il_maps_set;        /* SetILInstrumentedCodeMap accepted */
    atomic_uint_fast64_t il_maps_failed;     /* refused, or no memory for the map */
    atomic_uint_fast32_t il_map_error;       /* the last refusal's HRESULT */
} prof_counters_t;

/* ----------------------------------------------------------- global state */
typedef struct prof_state {
    ICorProfilerInfo5 *info;  /* one reference, taken in Initialize */
    prof_config_t config;
    prof_counters_t counters;
    atomic_uint_fast64_t rewrite_seq; /* bodies set so far by the JIT path (prof_modules_body_set) */
    DWORD event_mask;
    char runtime_version[64];
    char notes[1024]; /* prof_diag lines for the report (when it has a path) */
    char counts_error[256]; /* why the counts file could not be written; empty if it was */
} prof_state_t;

extern prof_state_t prof_g;

/* ---------------------------------------------------------------- modules */
/* What the JIT path needs of a module, copied out of the table. The caller
 * owns one reference on malloc (NULL if none could be had). */
typedef struct prof_module_stats {
    atomic_uint_fast64_t allocs_ok;
    atomic_uint_fast64_t allocs_failed;
    atomic_int last_failure; /* ilheap status of the last failed Alloc (0: none, or not ilheap's) */
} prof_module_stats_t;

typedef struct prof_module_view {
    struct prof_module *module; /* one reference on the module's record */
    const uint8_t *base;
    size_t image_size;
    DWORD flags;
    IMethodMalloc *malloc;
    /* The module's own counters; valid until prof_modules_view_end. */
    prof_module_stats_t *stats;
    /* ReJIT (GetReJITParameters): the new body goes here, copied, instead
     * of into the module's allocator and SetILFunctionBody; NULL otherwise. */
    ICorProfilerFunctionControl *control;
} prof_module_view_t;

void prof_modules_init(void);
/* ModuleLoadFinished: records base, flags, image size; gets the allocator.
 * Idempotent: a module a JIT already registered is left as it is. */
void prof_modules_loaded(ModuleID id);
/* ModuleUnloadFinished, the only event that ends a module: releases the
 * allocator and (ilheap) the module's heap. The ID may then come back as a
 * new module. */
void prof_modules_unloaded(ModuleID id);
/* Fills *view for a JIT on this module (registering it if it was never seen,
 * from any number of threads at once). Returns 0 (then call
 * prof_modules_view_end), or -1 with the skip reason. */
int prof_modules_view(ModuleID id, prof_module_view_t *view, prof_skip_t *why);
void prof_modules_view_end(prof_module_view_t *view);
/* Claims the view's (module, token) for rewriting: 1 the first time, 0 when
 * it was claimed before (the body is already ours). */
int prof_modules_claim(const prof_module_view_t *view, mdMethodDef token);
/* 1 when the token was claimed (a lookup only). */
int prof_modules_claimed(const prof_module_view_t *view, mdMethodDef token);
/* Stamps a claimed token with the next rewrite_seq: its new body is in place
 * (SetILFunctionBody returned). */
void prof_modules_body_set(const prof_module_view_t *view, mdMethodDef token);
/* 1 when the token's new body was set at or before rewrite_seq value seq. */
int prof_modules_body_set_before(const prof_module_view_t *view, mdMethodDef token,
                                 uint64_t seq);
/* Undoes a claim whose rewrite failed, so a later JIT may try again. */
void prof_modules_unclaim(const prof_module_view_t *view, mdMethodDef token);

/* 1 when methods of module id get probes (calls, blocks, timing; in scope);
 * *is_corelib says whether it is System.Private.CoreLib. */
int prof_modules_instrumented(ModuleID id, int *is_corelib);
/* The view's module: in scope, its counts (created at the first call, NULL
 * without memory), the token of a method the probes call (emitted at the
 * first call; 0 when it cannot be). */
int prof_modules_in_scope(const prof_module_view_t *view);
struct prof_counts *prof_modules_counts(const prof_module_view_t *view, ModuleID id);
int prof_modules_is_corelib(const prof_module_view_t *view);
mdToken prof_modules_ref(const prof_module_view_t *view, ModuleID id, prof_ref_t which);
/* The runtime's own allocator for the view's module (ILHEAP_FALLBACK), got
 * once; NULL if unavailable. Owned by the module's record. */
IMethodMalloc *prof_modules_fallback(const prof_module_view_t *view, ModuleID id);

/* ----------------------------------------------------------------- counts */
/* The counts file (ILHEAP_COUNTS), created at Initialize in the counting
 * modes; -1 when it cannot be (said in the report or on stderr, and in
 * prof_g.counts_error): nothing may be counted then. */
int prof_counts_start(void);
/* Shutdown: the file's completion mark (the counters stay mapped). */
void prof_counts_finish(void);
uint64_t prof_counts_file_bytes(void);
typedef struct prof_counts prof_counts_t;
/* A module's record in the file (mvid may be NULL); NULL without a file or
 * room in it. */
prof_counts_t *prof_counts_create(const char *module, const char *path, const GUID *mvid);
/* n zeroed 64-bit counters in the file that never move; NULL without room
 * (counted as lost). */
int64_t *prof_counts_reserve(prof_counts_t *k, uint32_t n);
/* Puts a method in the file before its body is installed (keys: what each
 * of the n counters counts; one ENTRY key in calls mode); *handle names it
 * for prof_counts_withdraw. 0, or -1 without room (counted as lost). */
int prof_counts_publish(prof_counts_t *k, uint32_t token, const char *name, const ilheap_probe_key_t *keys,
                        uint32_t n, int64_t *counters, uint64_t *handle);
/* The same for a timed method: its three counters (prof_counts_reserve) and
 * the clock's ticks per second. */
int prof_counts_publish_timing(prof_counts_t *k, uint32_t token, const char *name, int64_t *counters,
                               uint64_t ticks_per_second, uint64_t *handle);
/* The method's body was not installed: its record is withdrawn. */
void prof_counts_withdraw(uint64_t handle);
/* Frees the module's record here (its counters stay in the file). */
void prof_counts_destroy(prof_counts_t *k);

/* ------------------------------------------------------------------- emit */
/* A token for a CoreLib method the probes call, usable in the module's IL:
 * CoreLib's own MethodDef, else a MemberRef emitted through IMetaDataEmit
 * (an AssemblyRef to System.Private.CoreLib, a TypeRef). 0 on failure. */
mdToken prof_emit_ref(ModuleID id, int is_corelib, prof_ref_t which);
/* The StandAloneSig token of a local variable signature (GetTokenFromSig:
 * the same blob gives the same token); 0 on failure. */
mdToken prof_emit_local_sig(ModuleID id, const uint8_t *sig, size_t size);

/* ------------------------------------------------------------------ image */
typedef struct prof_image_facts {
    uint32_t size_of_image;    /* PE optional header (0 if unreadable) */
    uint64_t file_extent;      /* max(PointerToRawData + SizeOfRawData) */
    int pe_ok;                 /* the header at base parsed */
    uint64_t gap_above;        /* free bytes right at the image end (0: something is mapped there) */
    uint64_t free_2g;          /* unmapped bytes in [image end, base + 2 GiB) */
    uint64_t free_4g;          /* unmapped bytes in [image end, base + 4 GiB) */
    uint64_t first_gap;        /* first hole of >= 64 KiB above the image end */
    uint64_t first_gap_size;
} prof_image_facts_t;

/* Reads the PE header at base (bounded to its first page), via ilheap_pe_read_headers. */
void prof_image_read_pe(const uint8_t *base, prof_image_facts_t *facts);
/* The room above [base, base + size), from the library's walk of the free
 * address ranges. Costly (reads the process map): module log only. */
void prof_image_read_maps(const uint8_t *base, uint64_t size, prof_image_facts_t *facts);

/* ------------------------------------------------------------------ names */
/* 1 when method tok of module mod is cfg->replace_type::cfg->replace_method. */
int prof_names_is_replace_target(ModuleID mod, mdMethodDef tok);
/* "Namespace.Outer+Inner::Method" of a MethodDef in UTF-8; 0 or -1. */
int prof_names_method(IMetaDataImport *md, mdMethodDef token, char *out, size_t cap);
/* 1 for what instrumentation leaves alone in CoreLib: methods of
 * System.Threading.Interlocked and [Intrinsic] methods or types; in timing
 * mode also the clock its probes read (System.Diagnostics.Stopwatch,
 * Interop.Sys.GetTimestamp, Interop.Kernel32.QueryPerformanceCounter). */
int prof_names_leave_alone(IMetaDataImport *md, mdMethodDef token);

/* ---------------------------------------------------------------- rewrite */
void prof_rewrite_on_jit(FunctionID id);
/* Rewrites (mod, tok) as the mode says; the body goes where the view says
 * (view->control). fid: the JIT path's FunctionID (its IL map goes to
 * ICorProfilerInfo::SetILInstrumentedCodeMap), 0 on ReJIT. The JIT path
 * claims the token first; PROF_SKIP_COUNT when the body is in, else why not
 * (the JIT path's claim is given back when a later try could succeed). */
prof_skip_t prof_rewrite_method(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view);

/* ------------------------------------------------------------------ rejit */
/* ILHEAP_REJIT=1 (rejit.c). start: at Initialize, the thread that requests;
 * -1 when it cannot run (the JIT path then does everything). stop: at
 * Shutdown (waits a moment for a request under way). */
int prof_rejit_start(void);
void prof_rejit_stop(void);
/* ModuleLoadFinished, and any first sight of a module: queues it for
 * RequestReJIT when it is in scope. */
void prof_rejit_module_seen(ModuleID id);
void prof_rejit_module_unloaded(ModuleID id);
/* JITCachedFunctionSearchStarted: 0 when the method's ReadyToRun code must
 * not be used (its module's request is pending: the JIT path counts it). */
int prof_rejit_allow_precompiled(FunctionID id);
/* The ReJIT callbacks. */
HRESULT prof_rejit_parameters(ModuleID mod, mdMethodDef tok, IUnknown *control);
void prof_rejit_error(ModuleID mod, mdMethodDef tok, HRESULT hr);
void prof_rejit_compiled(HRESULT hr);
/* A method the JIT path rewrote (its module pending, or its instantiation
 * not versionable: collectible). */
void prof_rejit_count_jit_path(void);
/* A block for the new body of a ReJIT (this thread's, reused): NULL without
 * memory. */
uint8_t *prof_rejit_buffer(size_t size);
/* The report's ReJIT lines (rejit_requested=, rejit_done=, rejit_failed=,
 * the errors seen). */
void prof_rejit_write_summary(FILE *out);

/* ---------------------------------------------------------------- install */
typedef struct prof_scratch prof_scratch_t; /* scratch.c: a thread's rewriter and buffers */
/* A block of size bytes from the view's allocator (timed and counted); NULL
 * with *why when Alloc fails. */
uint8_t *prof_install_alloc(ModuleID mod, const prof_module_view_t *view, size_t size,
                            int *fallback, prof_skip_t *why);
/* Checks the block's window (unless it came from the fallback allocator) and
 * installs it with SetILFunctionBody. */
int prof_install_set(ModuleID mod, mdMethodDef tok, const prof_module_view_t *view,
                     const uint8_t *p, size_t size, int fallback, prof_skip_t *why);
/* After prof_install_set: the old-to-new IL offset map of the body rw
 * encoded last (ilheap_rw_il_map), so that debuggers and stack traces map
 * the new IL back to the original's lines: ICorProfilerInfo::
 * SetILInstrumentedCodeMap on the JIT path (fid), ICorProfilerFunctionControl's
 * on ReJIT (view->control). Both copy the array. Counted, never fatal. */
void prof_install_map(const prof_module_view_t *view, FunctionID fid, prof_scratch_t *s);

/* ------------------------------------------------------------- signatures */
/* A module's metadata, open for reading (md2: NULL when the runtime gives
 * no IMetaDataImport2; MethodSpec calls then have no signature). */
typedef struct prof_md {
    IMetaDataImport *md;
    IMetaDataImport2 *md2;
} prof_md_t;
int prof_md_open(ModuleID mod, prof_md_t *out);
void prof_md_close(prof_md_t *m);
/* ilheap_rw_stack_fn over the metadata (ctx: a prof_md_t): a call token's
 * stack effect from its signature (a MethodSpec's generic method's). */
ilheap_status_t prof_sig_call_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes);
/* ilheap_rw_ctor_fn (ctx: a prof_md_t): 1 when token names a ".ctor". */
int prof_sig_is_ctor(void *ctx, uint32_t token);
/* 1 when the type's constructors call no base constructor: a struct
 * (its base is System.ValueType) or a type without base (Object). */
int prof_sig_no_base_ctor(const prof_md_t *m, mdTypeDef type);
/* A method's declaring type, whether it is an instance constructor, and its
 * signature decoded into arena (prof_sig_method_memory bytes). 0, or -1. */
typedef struct prof_method_sig {
    mdTypeDef type;
    int is_ctor;
    ilheap_sig_t sig;
} prof_method_sig_t;
int prof_sig_method(const prof_md_t *m, mdMethodDef tok, void *arena, size_t arena_size, prof_method_sig_t *out);
size_t prof_sig_method_memory(const prof_md_t *m, mdMethodDef tok);

/* ---------------------------------------------------------------- scratch */
/* A thread's rewriter, instrumenter and buffers (one per thread, kept). */
struct prof_scratch {
    ilheap_rw_t *rw;
    ilheap_instr_t *instr;
    ilheap_il_clause_t *clauses;
    size_t clauses_cap;
    void *arena; /* signatures (timing) */
    size_t arena_cap;
    ilheap_rw_il_map_t *map; /* the IL offset map (prof_install_map) */
    size_t map_cap;
};

/* This thread's scratch; NULL without memory. */
prof_scratch_t *prof_scratch_get(void);
/* Decodes the method's IL into s->rw (*body: as decoded). 0, or -1 when the
 * codec or the rewriter rejects it (or no memory). */
int prof_scratch_load(prof_scratch_t *s, const uint8_t *il, size_t il_size, ilheap_il_body_t *body);
/* s's arena of at least size bytes; NULL without memory. */
void *prof_scratch_arena(prof_scratch_t *s, size_t size);

/* ------------------------------------------------------------- instrument */
/* calls / blocks: decodes the body, inserts the probes, allocates the new
 * body from the view's allocator and installs it; publishes the method's
 * counters. 0, or -1 with *why (the method keeps its body). */
int prof_instrument(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view,
                    const uint8_t *il, size_t il_size, prof_skip_t *why);

/* ----------------------------------------------------------------- timing */
/* timing: wraps the body (entry, exits by an exception, time), allocates the
 * new body from the view's allocator (or ReJIT's buffer) and installs it;
 * publishes the method's timing record. 0, or -1 with *why. */
int prof_timing(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view, const uint8_t *il,
                size_t il_size, prof_skip_t *why);
/* The report's timing_* lines (timing mode only). */
void prof_timing_write_summary(FILE *out);

/* ----------------------------------------------------------------- report */
/* Sets the counters that do not start at zero (before any event). */
void prof_report_init(void);
void prof_report_skip(prof_skip_t why);
/* first: the module's first successful Alloc (ilheap reserves its chunk then). */
void prof_report_alloc(uint64_t ns, size_t size, int first);
void prof_report_window(const uint8_t *base, const uint8_t *p, size_t size);
/* Modules served / failing, the modules whose allocations failed, and the
 * registry's figures (modules.c; report.c calls it, never the reverse). */
void prof_modules_write_summary(FILE *out);
/* Writes the report to ILHEAP_REPORT or stderr. */
void prof_report_write(void);

/* The bucket of id in a table of 2^bits buckets (Fibonacci hashing: the top
 * bits of id times 2^64 / phi), for the tables keyed by ModuleID. */
static inline size_t prof_id_bucket(uint64_t id, unsigned bits)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

#endif /* ILHEAP_PROFILER_H */
