abort | libnng.so.1+0x1540c < libnng.so.1+0x23236 < libnng.so.1+0x2123d
