/* l1vh: where the hook puts the domain rewrite pieces inside a container,
 * shared by the hook (hook/domain.c) and the pieces themselves.
 *
 *   /dev/.l1vh/                 a private tmpfs, read-only once filled
 *     config                    what to rewrite, and which binaries are wrapped
 *     l1vh-domxml.so            (xml) the preload library for the libvirt daemon
 *     root/<top>/...            the image's own tree (e.g. /usr), bound read-only,
 *                               so the wrapped binaries stay reachable
 *   <wrapped binary>            l1vh-wrap, bound read-only over it
 *
 * /dev is the one directory every runtime makes itself, as a fresh tmpfs,
 * so nothing is written into the image. */
#ifndef L1VH_LAYOUT_H
#define L1VH_LAYOUT_H

#define L1VH_RUN_DIR "/dev/.l1vh"
#define L1VH_RUN_NAME ".l1vh" /* below /dev */
#define L1VH_CONFIG_NAME "config"
#define L1VH_CONFIG_FILE L1VH_RUN_DIR "/" L1VH_CONFIG_NAME
#define L1VH_ROOT_NAME "root"
#define L1VH_ROOT_DIR L1VH_RUN_DIR "/" L1VH_ROOT_NAME
#define L1VH_PRELOAD_NAME "l1vh-domxml.so"
#define L1VH_PRELOAD_FILE L1VH_RUN_DIR "/" L1VH_PRELOAD_NAME
#define L1VH_WRAP_NAME "l1vh-wrap"

/* The config file is small: a few names and at most a few paths. */
#define L1VH_RUN_CONFIG_MAX 8192
#define L1VH_RUN_MAX_WRAPPED 8
#define L1VH_RUN_MAX_FROM 8
#define L1VH_RUN_MAX_PATH 1024

#endif
