{
  "targets": [
    {
      "target_name": "deflate_addon",
      "sources": ["addon.c"],
      # Debian's static libdeflate.a (libdeflate-dev): the addon then needs no libdeflate0 at run time.
      "libraries": ["-l:libdeflate.a"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
