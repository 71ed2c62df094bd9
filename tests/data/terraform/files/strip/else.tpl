%{ if c ~}
  yes
%{~ else ~}
  no
%{ endif ~}
end
