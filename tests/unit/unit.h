/* Common includes for cmocka unit tests. Each tests/unit/test_*.c is one
 * executable linked against build/libcvisor.a; tests/run.sh runs them all. */
#ifndef CVISOR_TESTS_UNIT_H
#define CVISOR_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#endif
