/* core/version.h - the software version recorded in every output. */
#ifndef MB_CORE_VERSION_H
#define MB_CORE_VERSION_H
#define MB_VERSION "0.1.0"
#endif
