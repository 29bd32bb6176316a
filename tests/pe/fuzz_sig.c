/* libFuzzer target for the signature codec: any bytes as a signature of the
 * kind their first byte picks (sig_check.h: a broken contract aborts; ASan
 * catches any read past the blob). */
#include "sig_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[128];
    if (sig_check_bytes(data, size, why, sizeof why) < 0) {
        fprintf(stderr, "fuzz_sig: %s\n", why);
        abort();
    }
    return 0;
}
