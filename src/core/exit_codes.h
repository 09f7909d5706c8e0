/* Process exit statuses. 0-96 follow the QNX qvm table (guest.h); cvisor
 * adds its own in QNX's user-defined range 32-63, using even numbers only so
 * they never collide with debug-exit's QEMU-style (v << 1) | 1 statuses. */
#ifndef CVISOR_CORE_EXIT_CODES_H
#define CVISOR_CORE_EXIT_CODES_H

enum cv_exit {
	CV_EXIT_OK          = 0,  /* normal: guest powered off */
	CV_EXIT_TERMINATED  = 3,  /* SIGTERM/SIGINT/Ctrl-A x, like a power cut */
	CV_EXIT_WATCHDOG    = 4,  /* a watchdog vdev fired */
	CV_EXIT_UNSUPPORTED = 5,  /* guest did something cvisor cannot do */
	CV_EXIT_VDEV_ERROR  = 6,  /* unexpected device error */
	CV_EXIT_UNEXPECTED  = 7,  /* unexpected error (KVM internal error ...) */
	CV_EXIT_TRIPLE_FAULT = 32, /* guest triple-faulted (shutdown exit) */
	CV_EXIT_REBOOT      = 34, /* guest asked for reset, config says exit */
	CV_EXIT_USAGE       = 64, /* fatal before the guest started */
	CV_EXIT_CONFIG      = 65, /* fatal configuration error */
	CV_EXIT_POSTSTART   = 96, /* fatal after the guest started */
};

#endif
