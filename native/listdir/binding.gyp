{
  "targets": [
    {
      "target_name": "listdir_addon",
      "sources": ["addon.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
