leak | spw_fuzz_realloc_cb < reserve < feed_body
