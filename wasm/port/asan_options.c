/* AddressSanitizer defaults for the asan variants. A malloc that cannot be satisfied (a size
 * larger than the linear memory can hold) returns NULL, as it does in the release variants and
 * in SPDK on Linux, so the C model fails that request with -ENOMEM instead of the sanitizer
 * ending the machine; memory errors are reported as before. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif
#endif
