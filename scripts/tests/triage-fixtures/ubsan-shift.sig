ubsan:left-shift-of | load_be32 < spw_reqid_decode < LLVMFuzzerTestOneInput
