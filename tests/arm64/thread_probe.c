/* Can the emulator run a second thread? scripts/test-arm64.sh runs this
 * under qemu user-mode before the suite: some qemu and kernel pairs hang on
 * the first thread a guest creates (qemu 7.2 on Linux 6.18), and most tests
 * use threads. Exit 0 when a thread ran and was joined. */
#include <pthread.h>
#include <stdatomic.h>

static atomic_int ran;

static void *worker(void *arg)
{
    (void)arg;
    atomic_store(&ran, 1);
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    return atomic_load(&ran) ? 0 : 1;
}
