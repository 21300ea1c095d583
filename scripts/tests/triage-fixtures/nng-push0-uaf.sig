heap-use-after-free | nni_list_append < push0_pipe_ready < push0_pipe_start
