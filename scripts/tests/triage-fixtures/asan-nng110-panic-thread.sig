abort | panic(chunk_append failed)
