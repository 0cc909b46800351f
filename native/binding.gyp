{
  "targets": [
    {
      "target_name": "tsl_lab",
      "sources": ["tsl_lab.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
