"""Word list of the tiny preset's in-memory T5 tokenizer: content words of the project's captions.

Words outside it fall back to single letters, so no caption is ever unrepresentable.
"""

WORDS = """
a an the of and with on in at to from by for over under near behind front side top bottom left right
photo picture image scene view close up far small large big tiny little old new bright dark light
red green blue yellow orange purple pink brown black white grey gray gold silver colourful colorful
man woman person people astronaut cat dog horse bird animal face portrait child girl boy
coffee cup mug table chair room house building street city road car bike motorcycle rocket moon sky
space stars galaxy planet earth sun cloud clouds sea ocean water river lake beach sand grass field
tree trees forest flower flowers leaf leaves plant garden mountain hill rock stone wall brick bricks
texture pattern gradient stripes checkerboard circle circles square squares shapes shape triangle
dots lines grid noise waves wave coins coin clock text page book letters logo camera lens cell cells
tissue microscope retina eye eyes phantom scan stereo hubble deep field gravel wood metal glass paper
sitting standing walking running flying floating lying looking holding wearing
sharp soft blurry detailed plain simple textured striped spotted round flat
one two three four five many some several
background lights stones triangles colours colors rings spots blobs lines
""".split()

LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")
