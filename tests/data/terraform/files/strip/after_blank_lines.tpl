%{ if true ~}


b%{ endif }
