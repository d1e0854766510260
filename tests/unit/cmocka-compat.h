/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tests use cmocka 2.0 names; Debian 12 ships cmocka 1.1, which has
 * the same functions under the old names.
 */
#ifndef _XQ_CMOCKA_COMPAT_H
#define _XQ_CMOCKA_COMPAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#ifndef will_return_int
#define will_return_int(f, v)		will_return(f, v)
#define mock_int()			((int)mock())
#endif
#ifndef will_return_ptr_type
#define will_return_ptr_type(f, v)	will_return(f, cast_ptr_to_largest_integral_type(v))
#endif
#ifndef expect_int_value
#define expect_int_value(f, p, v)	expect_value(f, p, v)
#endif

#endif /* _XQ_CMOCKA_COMPAT_H */
