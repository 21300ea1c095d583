invariant(spw_decoder_idle(&p.dec)==(ref.tail==0)) | LLVMFuzzerTestOneInput
