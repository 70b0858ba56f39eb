{
  "targets": [
    {
      "target_name": "deflate_addon",
      "sources": ["addon.c"],
      "libraries": ["-ldeflate"],
      "cflags": ["-O2", "-std=c11"]
    }
  ]
}
