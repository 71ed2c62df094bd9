a:
%{ for x in xs ~}
  - ${x}
%{ endfor ~}
b: 1
