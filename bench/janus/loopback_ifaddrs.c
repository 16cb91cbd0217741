/* LD_PRELOAD shim for the relay benchmark: report every interface as non-loopback.
 *
 * Janus skips interfaces flagged IFF_LOOPBACK when it gathers ICE candidates, so in the
 * benchmark's loopback-only network namespace it would offer no candidate at all. Clearing
 * the flag lets it offer 127.0.0.1 (its config also enforces the "lo" interface only).
 * Only the benchmark's own Janus process ever loads this.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap)
{
    static int (*real_getifaddrs)(struct ifaddrs **);
    if (!real_getifaddrs)
        real_getifaddrs = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    if (!real_getifaddrs)
        return -1;
    int rc = real_getifaddrs(ifap);
    if (rc == 0)
        for (struct ifaddrs *ifa = *ifap; ifa; ifa = ifa->ifa_next)
            ifa->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
