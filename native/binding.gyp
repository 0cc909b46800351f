{
  "targets": [
    {
      "target_name": "tsl_lab",
      "sources": ["tsl_lab.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "tsl_inflate",
      "sources": ["tsl_inflate.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
