heap-buffer-overflow | feed_body < spw_decoder_feed < feed_chunk
