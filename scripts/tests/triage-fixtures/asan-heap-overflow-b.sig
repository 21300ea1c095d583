heap-buffer-overflow | feed_body < spw_decoder_feed < LLVMFuzzerTestOneInput
