a

  ${~ x ~}

  b
